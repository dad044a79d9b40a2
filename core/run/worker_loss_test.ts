// A worker process that is lost mid-run: said once, its delivered stats kept and never counted
// twice, its users moved to the live load workers, the run going on. Driven through the
// coordinator with a scripted transport whose workers belong to processes, as remote ones do.
import assert from "node:assert/strict";
import { RecorderSet } from "../recorder/recorder_set.ts";
import type { LifecycleEvent, SystemSample } from "../recorder/types.ts";
import { createRunInfo } from "../run_info.ts";
import { RequestStats } from "../stats/request_stats.ts";
import { ThresholdEvaluator } from "../stats/thresholds.ts";
import { coordinate, type CoordinatorOptions } from "./coordinator.ts";
import { rampProfile } from "./load_profile.ts";
import { TEST_HTTP } from "./test_fixtures.ts";
import type { ToWorker } from "./protocol.ts";
import type { WorkerEvents, WorkerTransport } from "./worker_transport.ts";

/** A load worker of a scripted process: runs what it is told and counts its requests. */
class Thread {
  readonly stats = new RequestStats();
  readonly assigned: Record<string, number>[] = [];
  active: Record<string, number> = {};
  started = 0;
  /** Requests it counted and reported, in stats messages the pool got. */
  delivered = 0;
  counted = 0;
  constructor(readonly id: number, readonly host: string, readonly events: WorkerEvents) {}

  report(type: "stats" | "stopped"): void {
    this.delivered = this.counted;
    this.events.message({
      type,
      workerId: this.id,
      delta: this.stats.takeDelta(),
      users: { active: { ...this.active }, started: this.started },
    });
  }

  handle(message: ToWorker): void {
    if (message.type === "init") return this.events.message({ type: "ready", workerId: this.id });
    if (message.type === "begin") return;
    if (message.type === "users") {
      this.assigned.push(message.counts);
      for (const [kind, n] of Object.entries(message.counts)) {
        this.started += Math.max(0, n - (this.active[kind] ?? 0));
        this.active[kind] = n;
      }
      return;
    }
    this.active = {};
    this.report("stopped");
  }
}

/** Two processes, `a` and `b`, of two load workers each (a/worker-1, b/worker-1, a/worker-2, …). */
class ProcessTransport implements WorkerTransport {
  readonly watchesLiveness = true;
  readonly threads: Thread[] = [];
  readonly #hosts = ["a", "b", "a", "b"];
  readonly #index = [1, 1, 2, 2];

  sourceOf(id: number): string {
    return `${this.#hosts[id - 1]}/worker-${this.#index[id - 1]}`;
  }

  open(id: number, events: WorkerEvents) {
    const thread = new Thread(id, this.#hosts[id - 1], events);
    this.threads.push(thread);
    let open = true;
    return {
      post: (message: ToWorker) => open && queueMicrotask(() => thread.handle(message)),
      close: () => open = false,
    };
  }

  /** Process `host` is gone: each of its load workers is told, as remote_transport.ts does. */
  lose(host: string): void {
    for (const t of this.threads) if (t.host === host) t.events.lost?.(host, "sent no heartbeat");
  }
}

Deno.test("a lost process is said once, its stats kept, its users moved; the run goes on", async () => {
  const transport = new ProcessTransport();
  const events: LifecycleEvent[] = [];
  const samples: SystemSample[] = [];
  const recorders = new RecorderSet([{
    id: "memory",
    recorder: {
      lifecycle: { event: (e) => void events.push(e) },
      system: { samples: (s) => void samples.push(...s) },
    },
  }]);
  const options: CoordinatorOptions = {
    kinds: [{ kind: "u", weight: 1, wait: () => 0, tasks: [] }],
    planUrl: "inline:",
    run: createRunInfo({ testplan: "loss", host: "http://127.0.0.1:1" }),
    profile: rampProfile(8, Infinity),
    users: 8,
    spawnRate: Infinity,
    runTimeMs: 600,
    workers: 4,
    stopTimeoutMs: 0,
    loadTimeoutMs: 5_000,
    maxNames: 500,
    statsIntervalMs: 100,
    percentiles: [50],
    recorders,
    http: TEST_HTTP,
    data: [],
    thresholds: new ThresholdEvaluator([]),
    transport,
  };
  let lostAt = -1;
  const traffic = setInterval(() => {
    for (const t of transport.threads) {
      t.stats.record("GET", "/x", 200, 1000, 0, null);
      t.counted++;
      if (t.counted % 3 === 0) t.report("stats");
    }
    // Process b goes silent mid-run; its load workers keep "sending", as a partitioned one would.
    if (lostAt < 0 && transport.threads[0].counted === 12) {
      lostAt = transport.threads.filter((t) => t.host === "b").reduce((n, t) => n + t.delivered, 0);
      transport.lose("b");
      transport.lose("b");
      transport.threads.find((t) => t.host === "a")?.events.sample?.("a", {
        at: "",
        cpuPercent: 5,
      });
    }
  }, 10);
  const outcome = await coordinate(options).finally(() => clearInterval(traffic));
  await recorders.stop(outcome.reason);

  assert.equal(outcome.reason, "completed");
  assert.deepEqual(outcome.workersLost, ["b: sent no heartbeat"]);
  assert.deepEqual(outcome.workerFailures, []);
  const lost = events.filter((e) => e.name === "worker_lost");
  assert.deepEqual(lost.map((e) => [e.source, e.data]), [["b", { message: "sent no heartbeat" }]]);
  assert.ok(!events.some((e) => e.name === "worker_failed"));
  // Counted: every request a live process reported, and what b delivered before it was lost.
  const live = transport.threads.filter((t) => t.host === "a");
  const expected = live.reduce((n, t) => n + t.counted, 0) + lostAt;
  assert.equal(outcome.final.cumulative.total.requests, expected);
  // b's 4 users moved to a's two load workers: 4 users each.
  for (const t of live) assert.deepEqual(t.assigned.at(-1), { u: 4 });
  assert.ok(samples.some((s) => s.source === "a" && s.cpuPercent === 5), "the process's sample");
  assert.ok(events.some((e) => e.name === "worker_started" && e.source === "b/worker-2"));
});
