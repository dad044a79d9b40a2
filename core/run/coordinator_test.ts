import assert from "node:assert/strict";
import { RunError } from "../errors.ts";
import { RecorderSet } from "../recorder/recorder_set.ts";
import type { FinalSnapshot, IntervalSnapshot, LifecycleEvent } from "../recorder/types.ts";
import { createRunInfo } from "../run_info.ts";
import { RequestStats } from "../stats/request_stats.ts";
import { ThresholdEvaluator } from "../stats/thresholds.ts";
import { coordinate, type CoordinatorOptions } from "./coordinator.ts";
import { rampProfile } from "./load_profile.ts";
import { TEST_HTTP } from "./test_fixtures.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";
import type { WorkerEvents, WorkerTransport } from "./worker_transport.ts";

/** A scripted load worker: answers the protocol the way a real one does, from memory. */
class FakeWorker {
  readonly received: ToWorker[] = [];
  readonly stats = new RequestStats();
  active: Record<string, number> = {};
  started = 0;
  /** Requests this worker counted, and whether it sent its last stats. */
  counted = 0;
  stopped = false;
  closed = false;
  constructor(readonly id: number, readonly events: WorkerEvents, readonly script: Script) {}

  send(message: FromWorker): void {
    if (!this.closed) queueMicrotask(() => this.events.message(message));
  }

  report(type: "stats" | "stopped"): void {
    if (type === "stopped") this.stopped = true;
    this.send({
      type,
      workerId: this.id,
      delta: this.stats.takeDelta(),
      users: { active: { ...this.active }, started: this.started },
    });
  }

  handle(message: ToWorker): void {
    this.received.push(message);
    this.script(this, message);
  }
}

type Script = (worker: FakeWorker, message: ToWorker) => void;

/** Like a real worker: ready on init, runs what it is given, its last stats on stop. */
const obedient: Script = (worker, message) => {
  switch (message.type) {
    case "init":
      return worker.send({ type: "ready", workerId: worker.id });
    case "users":
      for (const [kind, n] of Object.entries(message.counts)) {
        worker.started += Math.max(0, n - (worker.active[kind] ?? 0));
        worker.active[kind] = n;
      }
      return;
    case "stop":
      worker.active = {};
      return worker.report("stopped");
  }
};

class FakeTransport implements WorkerTransport {
  readonly workers: FakeWorker[] = [];
  constructor(readonly scriptFor: (id: number) => Script = () => obedient) {}
  open(workerId: number, events: WorkerEvents) {
    const worker = new FakeWorker(workerId, events, this.scriptFor(workerId));
    this.workers.push(worker);
    return {
      post: (message: ToWorker) => worker.handle(message),
      close: () => worker.closed = true,
    };
  }
}

interface Seen {
  events: LifecycleEvent[];
  intervals: IntervalSnapshot[];
  finals: FinalSnapshot[];
}

function options(
  transport: WorkerTransport,
  more: Partial<CoordinatorOptions> = {},
): { options: CoordinatorOptions; seen: Seen } {
  const seen: Seen = { events: [], intervals: [], finals: [] };
  const recorders = new RecorderSet([{
    id: "memory",
    recorder: {
      lifecycle: { event: (e) => void seen.events.push(e) },
      request: {
        interval: (s) => void seen.intervals.push(s),
        final: (s) => void seen.finals.push(s),
      },
    },
  }]);
  return {
    seen,
    options: {
      kinds: [{ kind: "a", weight: 1, wait: () => 0, tasks: [] }],
      planUrl: "inline:",
      run: createRunInfo({ testplan: "fake", host: "http://127.0.0.1:1" }),
      profile: rampProfile(4, Infinity),
      users: 4,
      spawnRate: Infinity,
      runTimeMs: 350,
      workers: 2,
      stopTimeoutMs: 0,
      loadTimeoutMs: 5_000,
      maxNames: 500,
      statsIntervalMs: 100,
      percentiles: [50, 99],
      recorders,
      http: TEST_HTTP,
      data: [],
      thresholds: new ThresholdEvaluator([]),
      transport,
      ...more,
    },
  };
}

Deno.test("the coordinator merges every worker's counts exactly, once, in start -> run -> stop order", async () => {
  const transport = new FakeTransport();
  const { options: o, seen } = options(transport);
  // Each worker counts requests between the coordinator's messages, as real users would.
  const traffic = setInterval(() => {
    for (const w of transport.workers) {
      if (w.stopped || w.closed) continue;
      for (let i = 0; i < 3; i++) w.stats.record("GET", `/w${w.id}`, 200, 1000 * w.id, 10, null);
      w.counted += 3;
      if (w.counted % 2 === 0) w.report("stats");
    }
  }, 20);
  const outcome = await coordinate(o).finally(() => clearInterval(traffic));
  await o.recorders.stop(outcome.reason);

  assert.equal(outcome.reason, "completed");
  const total = outcome.final.cumulative.total;
  // Every request a worker counted arrives in exactly one delta, however they were batched.
  for (const w of transport.workers) {
    const row = outcome.final.cumulative.endpoints.find((e) => e.name === `/w${w.id}`);
    assert.ok(w.counted > 0);
    assert.equal(row?.requests, w.counted, `worker-${w.id}`);
  }
  assert.equal(total.requests, transport.workers.reduce((n, w) => n + w.counted, 0));
  assert.equal(seen.finals.length, 1);
  assert.equal(seen.finals[0].cumulative.total.requests, total.requests);
  assert.ok(seen.intervals.length >= 2, `${seen.intervals.length} interval snapshots`);
  assert.ok(seen.intervals.every((s) => s.cumulative.total.requests <= total.requests));
  // Users were spread over both workers, all at once.
  for (const w of transport.workers) {
    assert.deepEqual(w.received.map((m) => m.type), ["init", "begin", "users", "stop"]);
    assert.deepEqual(w.received[2], { type: "users", counts: { a: 2 } });
  }
  const names = seen.events.map((e) => `${e.name}:${e.source}`);
  assert.deepEqual(names.slice(0, 4).sort(), [
    "spawning_complete:coordinator",
    "test_start:coordinator",
    "worker_started:worker-1",
    "worker_started:worker-2",
  ]);
  assert.ok(names.indexOf("test_start:coordinator") > names.indexOf("worker_started:worker-2"));
  assert.deepEqual(names.slice(-3), [
    "worker_stopped:worker-1",
    "worker_stopped:worker-2",
    "test_stop:coordinator",
  ]);
  assert.deepEqual(seen.finals[0].histograms.map((h) => h.name).sort(), [
    "/w1",
    "/w2",
    "Aggregated",
  ]);
  const merged = seen.finals[0].histograms.find((h) => h.name === "Aggregated")!.histogram;
  assert.equal(merged.totalCount, total.requests);
});

Deno.test("a worker that fails to start fails the run with its reason, and every worker is closed", async () => {
  const transport = new FakeTransport((id) =>
    id === 2
      ? (w, m) => m.type === "init" && w.send({ type: "failed", workerId: 2, message: "boom" })
      : obedient
  );
  const { options: o } = options(transport);
  await assert.rejects(() => coordinate(o), (e: unknown) => {
    assert.ok(e instanceof RunError);
    assert.equal(e.message, "Cannot start load worker worker-2: boom");
    return true;
  });
  assert.ok(transport.workers.every((w) => w.closed));
});

Deno.test("the run stops by itself when every user has ended, and when every worker failed", async () => {
  // Users end at once (StopUser): the workers report them started and gone.
  const quitting: Script = (w, m) => {
    obedient(w, m);
    if (m.type === "users") {
      w.active = {};
      w.report("stats");
    }
  };
  const done = options(new FakeTransport(() => quitting), { runTimeMs: null });
  assert.equal((await coordinate(done.options)).reason, "all_users_stopped");

  const crashing: Script = (w, m) => {
    obedient(w, m);
    if (m.type === "users") w.events.error("the worker died");
  };
  const failed = options(new FakeTransport(() => crashing), { runTimeMs: null });
  const outcome = await coordinate(failed.options);
  await failed.options.recorders.stop(outcome.reason);
  assert.equal(outcome.reason, "failed");
  assert.deepEqual(outcome.workerFailures.sort(), [
    "worker-1: the worker died",
    "worker-2: the worker died",
  ]);
  assert.equal(failed.seen.events.filter((e) => e.name === "worker_failed").length, 2);
});

Deno.test("a signal stops the run as interrupted or terminated, even one that came during the start", async () => {
  const early = new AbortController();
  early.abort();
  const interrupted = options(new FakeTransport(), { runTimeMs: null, signal: early.signal });
  assert.equal((await coordinate(interrupted.options)).reason, "interrupted");

  const term = new AbortController();
  const terminated = options(new FakeTransport(), { runTimeMs: null, signal: term.signal });
  setTimeout(() => term.abort("terminated"), 50);
  assert.equal((await coordinate(terminated.options)).reason, "terminated");
});

Deno.test("stats a worker sends after its last delta are not counted again", async () => {
  // Worker 1 sends its last delta, then (a bug, a replay) the same requests again.
  const replaying: Script = (w, m) => {
    if (m.type !== "stop") return obedient(w, m);
    w.stats.record("GET", "/late", 200, 1000, 0, null);
    w.report("stopped");
    w.stats.record("GET", "/late", 200, 1000, 0, null);
    w.report("stats");
  };
  const { options: o } = options(new FakeTransport(() => replaying), { workers: 1 });
  const outcome = await coordinate(o);
  const late = outcome.final.cumulative.endpoints.find((e) => e.name === "/late");
  assert.equal(late?.requests, 1);
});
