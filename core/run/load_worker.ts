// A load worker: runs virtual users on one event loop for the coordinator, counts their
// requests and sends a stats delta once per interval. The same class serves a Web Worker, the
// coordinator's own thread (`workers: 0`) and, later, a remote worker; only `send` differs.
import { explainError } from "../errors.ts";
import { createHttpClientFactory, type RequestClock } from "../http/client.ts";
import { type RequestTracer, startTracer } from "../http/tracing.ts";
import type { FromWorker, HttpSettings, ToWorker, WorkerUsers } from "./protocol.ts";
import { type NormalizedUserKind, type Plan, userKindsOf } from "../plan/plan.ts";
import { importPlan } from "../plan/plan_loader.ts";
import { TableFeed } from "./data_table.ts";
import { setLongTimeout } from "../timers.ts";
import { UserAllocator } from "./ramp.ts";
import { ArrivalExecutor } from "./arrival_executor.ts";
import { isArrivalKind } from "./arrivals.ts";
import { RequestStats } from "../stats/request_stats.ts";
import { LagMonitor, SystemSampler } from "./system_metrics.ts";
import { type UserEnvironment, VirtualUser } from "./virtual_user.ts";

/** How long a worker waits for tasks that ignore the stop after `stop.timeoutMs` ran out. */
const ABORT_GRACE_MS = 1000;
/** An event loop that has not run a timer for this long is starved by busy tasks. */
const STARVED_MS = 50;
/** The worker's heartbeat timer: it marks the loop as alive and measures its lag. */
const TICK_MS = 10;
/** How long the stop waits for the last spans to be exported (traces on) before the last delta. */
const SPAN_FLUSH_MS = 3000;

/** Options of a {@link LoadWorker}. */
export interface LoadWorkerOptions {
  /**
   * Sample this thread's CPU, heap and event-loop lag into every stats message. Default: when
   * no plan object is given, i.e. the worker imports the plan on a thread of its own (a Web
   * Worker); one given the plan runs on the coordinator's thread, which samples itself.
   */
  sampleSystem?: boolean;
}

/** The run's iteration limit in shared memory: each take is one atomic decrement. */
export function sharedBudget(buffer: SharedArrayBuffer): { take(): boolean } {
  const left = new Int32Array(buffer);
  return { take: () => Atomics.load(left, 0) > 0 && Atomics.sub(left, 0, 1) > 0 };
}

/** Marks a thread that is a load worker (on `globalThis`): run() refuses to start there. */
export const IN_LOAD_WORKER = Symbol.for("stampede.inLoadWorker");

/** Runs virtual users on one event loop for the coordinator. */
export class LoadWorker {
  readonly #send: (message: FromWorker) => void;
  readonly #plan: Plan | null;
  #workerId = 0;
  #kinds = new Map<string, NormalizedUserKind>();
  /** Users by kind, by slot: the k-th user of a kind on this worker has slot k (empty when it
   * ended by itself; refilled when the counts next change). */
  #users = new Map<string, (VirtualUser | undefined)[]>();
  #placement: UserAllocator | null = null;
  #started = 0;
  /** This worker's share of each open-model kind, and their pool users. */
  #executors: ArrivalExecutor[] = [];
  #poolUsers = new Map<string, VirtualUser[]>();
  #stats: RequestStats | null = null;
  #env: UserEnvironment | null = null;
  #statsTimer: ReturnType<typeof setInterval> | undefined;
  #tickTimer: ReturnType<typeof setInterval> | undefined;
  #lastTickMs = performance.now();
  #stopped = false;
  /** While the stop waits for running tasks: ends the wait and cuts them off. */
  #cutOff: (() => void) | null = null;
  readonly #sampleSystem: boolean;
  #lag: LagMonitor | null = null;
  #sampler: SystemSampler | null = null;
  #tracer: RequestTracer | null = null;

  /** `plan` skips the import of `init.planUrl` (used when running on the coordinator's thread). */
  constructor(send: (message: FromWorker) => void, plan?: Plan, options: LoadWorkerOptions = {}) {
    this.#send = send;
    this.#plan = plan ?? null;
    this.#sampleSystem = options.sampleSystem ?? plan === undefined;
  }

  /** Handles one message from the coordinator. */
  async handle(message: ToWorker): Promise<void> {
    switch (message.type) {
      case "init":
        return await this.#init(message);
      case "users":
        return this.#setUsers(message.counts);
      case "begin":
        return this.#begin(message.epochMs);
      case "stop":
        return await this.#stop(message.timeoutMs);
      default: {
        const unknown: never = message;
        throw new Error(`unknown message ${JSON.stringify(unknown)}`);
      }
    }
  }

  async #init(init: Extract<ToWorker, { type: "init" }>) {
    const { workerId, run, statsIntervalMs } = init;
    this.#workerId = workerId;
    try {
      const plan = this.#plan ?? await importPlan(init.planUrl, init.planCode);
      const kinds = userKindsOf(plan);
      for (const kind of kinds) this.#kinds.set(kind.kind, kind);
      const closed = kinds.filter((k) => !isArrivalKind(init.arrivals, k.kind));
      const firstClosedIndex = init.arrivals.reduce((n, a) => n + a.maxUsers, 0);
      this.#placement = new UserAllocator(closed, init.workers, firstClosedIndex);
      if (init.http.traces) {
        const warn = (message: string) => this.#send({ type: "warning", workerId, message });
        this.#tracer = await startTracer(init.http.traces, run, warn);
      }
    } catch (error) {
      this.#send({ type: "failed", workerId, message: explainError(error) });
      return;
    }
    const stats = new RequestStats({ maxNames: init.maxNames });
    this.#stats = stats;
    const http: HttpSettings = init.http;
    // Each request notes the clock read that ends its timing: the starvation check after a task
    // uses that one instead of a read of its own (a task without requests still reads it).
    const clock: RequestClock = { lastMs: 0, reads: 0 };
    const createHttpClient = createHttpClientFactory(stats, {
      ...http,
      onWarning: (message) => this.#send({ type: "warning", workerId, message }),
      clock,
      tracer: this.#tracer,
    });
    this.#env = {
      stats,
      run,
      ...(init.iterations === null ? {} : { budget: sharedBudget(init.iterations) }),
      data: Object.fromEntries(
        init.data.map((table) => [
          table.name,
          new TableFeed(table, (name) =>
            this.#send({
              type: "warning",
              workerId,
              message:
                `data "${name}" has no rows left: users that ask for one end (order "unique" gives each row once)`,
            })),
        ]),
      ),
      createHttpClient,
      tracer: this.#tracer,
      clock,
      yieldIfStarved: (nowMs) => {
        return nowMs - this.#lastTickMs > STARVED_MS
          ? new Promise((resolve) => setTimeout(resolve, 0))
          : undefined;
      },
    };
    if (this.#sampleSystem) {
      this.#lag = new LagMonitor(TICK_MS);
      this.#sampler = new SystemSampler({ thread: true, lag: this.#lag });
    }
    this.#tickTimer = setInterval(() => {
      const nowMs = performance.now();
      this.#lag?.tick(nowMs);
      this.#lastTickMs = nowMs;
    }, TICK_MS);
    this.#statsTimer = setInterval(() => this.#sendStats("stats"), statsIntervalMs);
    await this.#preparePools(init);
    this.#send({ type: "ready", workerId });
  }

  /** Starts this worker's share of each open-model kind's pool, ready before the run starts. */
  async #preparePools(init: Extract<ToWorker, { type: "init" }>): Promise<void> {
    const env = this.#env!;
    const budget = env.budget;
    for (const arrival of init.arrivals) {
      const kind = this.#kinds.get(arrival.kind);
      if (!kind) continue;
      const users: VirtualUser[] = [];
      this.#poolUsers.set(arrival.kind, users);
      const executor = new ArrivalExecutor({
        kind: arrival,
        worker: this.#workerId - 1,
        workers: init.workers,
        createUser: async (slot) => {
          if (this.#stopped) return null;
          const identity = { index: arrival.firstIndex + slot, kindIndex: slot };
          const user = new VirtualUser(identity, kind, env, "driven");
          users.push(user);
          this.#started++;
          if (await user.ready) return user;
          user.stop();
          return null;
        },
        take: budget ? () => budget.take() : undefined,
        started: () => {},
        dropped: (count) => env.stats.iterations.dropped(arrival.kind, count),
        // The limit ran out: the pool's users end, so the run can end with them.
        exhausted: () => users.forEach((u) => u.stop()),
      });
      this.#executors.push(executor);
      await executor.prepare();
    }
  }

  /** The run starts: each open-model schedule counts from `epochMs`. */
  #begin(epochMs: number): void {
    const originMs = performance.now() - (Date.now() - epochMs);
    for (const executor of this.#executors) executor.begin(originMs);
  }

  #usersReport(): WorkerUsers {
    const active: Record<string, number> = {};
    for (const [kind, users] of this.#users) {
      active[kind] = users.reduce((n, user) => user === undefined ? n : n + 1, 0);
    }
    for (const [kind, users] of this.#poolUsers) {
      active[kind] = (active[kind] ?? 0) + users.reduce((n, u) => u.ended ? n : n + 1, 0);
    }
    return { active, started: this.#started };
  }

  #sendStats(type: "stats" | "stopped"): void {
    if (!this.#stats) return;
    this.#send({
      type,
      workerId: this.#workerId,
      delta: this.#stats.takeDelta(),
      users: this.#usersReport(),
      system: this.#sampler
        ? { at: new Date().toISOString(), ...this.#sampler.sample() }
        : undefined,
    });
  }

  #setUsers(counts: Record<string, number>): void {
    const env = this.#env;
    const placement = this.#placement;
    if (!env || !placement || this.#stopped) return;
    for (const [kindName, target] of Object.entries(counts)) {
      const kind = this.#kinds.get(kindName);
      if (!kind) continue;
      let users = this.#users.get(kindName);
      if (!users) this.#users.set(kindName, users = []);
      for (let slot = 0; slot < target; slot++) {
        if (users[slot] !== undefined) continue;
        const identity = placement.identity(kindName, this.#workerId - 1, slot);
        if (identity === null) break;
        const user = new VirtualUser(identity, kind, env);
        this.#started++;
        users[slot] = user;
        user.done.then(() => {
          if (users[slot] === user) users[slot] = undefined;
        });
      }
      // Stop the newest users first; they leave after their current task.
      for (const user of users.splice(target)) user?.stop();
    }
  }

  async #stop(timeoutMs: number): Promise<void> {
    // A second stop while the first still waits for running tasks cuts them off at once.
    if (this.#stopped) return this.#cutOff?.();
    this.#stopped = true;
    for (const executor of this.#executors) executor.stop();
    const all = [
      ...[...this.#users.values()].flat().filter((u) => u !== undefined),
      ...[...this.#poolUsers.values()].flat(),
    ];
    for (const user of all) user.stop();
    const finished = Promise.all(all.map((u) => u.done));
    let cancel = () => {};
    const timedOut = await Promise.race([
      finished.then(() => false),
      new Promise<boolean>((resolve) => {
        cancel = setLongTimeout(() => resolve(true), timeoutMs);
        this.#cutOff = () => resolve(true);
      }),
    ]);
    cancel();
    this.#cutOff = null;
    if (timedOut) {
      for (const user of all) user.abort();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        finished,
        new Promise((resolve) => timer = setTimeout(resolve, ABORT_GRACE_MS)),
      ]);
      clearTimeout(timer);
    }
    clearInterval(this.#statsTimer);
    clearInterval(this.#tickTimer);
    this.#users.clear();
    // The last spans leave before the last delta: the worker is ended once it is sent.
    await this.#tracer?.sink.close(SPAN_FLUSH_MS);
    this.#sendStats("stopped");
    this.#stats = null;
  }
}
