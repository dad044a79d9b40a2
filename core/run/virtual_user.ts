// A virtual user: one async loop running its kind's tasks, with its own `ctx` and HTTP client.
import { describeError, RunStopped, StopUser } from "../errors.ts";
import type { RequestClock, UserHttpClient } from "../http/client.ts";
import type { IterationCounts, IterationTally } from "../stats/iterations.ts";
import { normalizeFailureText } from "../stats/failure_text.ts";
import { setLongTimeout } from "../timers.ts";
import type { IterationSpan, RequestTracer } from "../http/tracing.ts";
import type {
  NormalizedTask,
  NormalizedUserKind,
  RecordedRequest,
  TaskContext,
} from "../plan/plan.ts";
import { NO_LATENCY, type RequestSink } from "../stats/request_stats.ts";
import type { DataFeed } from "../plan/data.ts";
import type { RunInfo } from "../run_info.ts";
import type { UserIdentity } from "./ramp.ts";

/** The failure text of an error a plan threw: grouped (ids and numbers as placeholders). */
function failureText(error: unknown): string {
  return normalizeFailureText(describeError(error));
}

/** The run's iteration limit, shared by every user and worker: one take per iteration. */
export interface IterationBudget {
  /** Takes one iteration; false when none is left. */
  take(): boolean;
}

/** What every user of a load worker shares. */
export interface UserEnvironment {
  stats: RequestSink & { readonly iterations: IterationTally };
  /** The run's iteration limit, when it has one. */
  budget?: IterationBudget;
  run: RunInfo;
  /** The plan's data feeds, shared by every user of the worker. */
  data: Readonly<Record<string, DataFeed>>;
  createHttpClient(signal: AbortSignal): UserHttpClient;
  /**
   * Yields to the event loop when tasks have kept it busy (CPU-bound tasks, no think time):
   * a promise to await when the loop has not run its timers for too long at `nowMs`.
   */
  yieldIfStarved(nowMs: number): Promise<void> | undefined;
  /**
   * The clock as the worker's requests last read it: a user whose iteration made a request takes
   * "now" from there instead of reading the clock again. Absent: the clock is read.
   */
  clock?: RequestClock;
  /** Traces each iteration and its requests (`--traces`); absent when off. */
  tracer?: RequestTracer | null;
}

/** Picks a task with probability proportional to its weight. */
function taskPicker(tasks: NormalizedTask[]): () => NormalizedTask {
  const weighted = tasks.filter((t) => t.weight > 0);
  if (weighted.length === 1) return () => weighted[0];
  const cumulative: number[] = [];
  let sum = 0;
  for (const t of weighted) cumulative.push(sum += t.weight);
  return () => {
    const r = Math.random() * sum;
    for (let i = 0; i < cumulative.length; i++) if (r < cumulative[i]) return weighted[i];
    return weighted[weighted.length - 1];
  };
}

/** How a user runs: a loop of tasks with think time (closed model), or driven by a schedule. */
export type UserMode = "loop" | "driven";

/**
 * One virtual user. In a loop (the closed model) it runs its kind's tasks, picked by weight,
 * with think time after each, until it is stopped, a task throws {@link StopUser} or its
 * iterations run out. Driven (a pool user of an arrival rate) it runs one task each time the
 * schedule calls {@link iterate}.
 */
export class VirtualUser {
  readonly #kind: NormalizedUserKind;
  readonly #env: UserEnvironment;
  readonly #abort = new AbortController();
  readonly #pick: () => NormalizedTask;
  readonly #context: TaskContext;
  readonly #http: UserHttpClient;
  #stopping = false;
  #wake: (() => void) | null = null;
  #iterations = 0;
  /** Where this user's kind's started iterations are counted. */
  readonly #started: IterationCounts;
  /** The worker clock's reads when this user last checked for starvation. */
  #clockReads = -1;
  #ended = false;
  /** A driven user's iteration in progress: its end is the user's end when it is stopped. */
  #running: Promise<boolean> | null = null;
  /** Settles when the user has ended (a driven one: when it was stopped and onStop ran). */
  readonly done: Promise<void>;
  /** A driven user: settles true once onStart ran, false when it failed (the user is unusable). */
  readonly ready: Promise<boolean>;
  #release: () => void = () => {};

  constructor(
    identity: UserIdentity,
    kind: NormalizedUserKind,
    env: UserEnvironment,
    mode: UserMode = "loop",
  ) {
    this.#kind = kind;
    this.#env = env;
    this.#pick = taskPicker(kind.tasks);
    this.#started = env.stats.iterations.of(kind.kind);
    const signal = this.#abort.signal;
    this.#http = env.createHttpClient(signal);
    this.#context = this.#contextFor(identity, signal);
    if (mode === "loop") {
      this.ready = Promise.resolve(true);
      this.done = this.#loop();
    } else {
      const released = new Promise<void>((resolve) => this.#release = resolve);
      this.ready = Promise.resolve().then(() => this.#runHook("onStart"));
      this.done = this.#driven(released);
    }
    this.done = this.done.finally(() => this.#ended = true);
  }

  #contextFor(identity: UserIdentity, signal: AbortSignal): TaskContext {
    const stats = this.#env.stats;
    return {
      http: this.#http,
      record: (r: RecordedRequest) => {
        const error = r.error ? normalizeFailureText(String(r.error)) : null;
        const due = this.#http.intendedStartMs;
        stats.record(
          String(r.type),
          String(r.name),
          0,
          Math.round(r.durationMs * 1000),
          r.bytes ?? 0,
          error,
          due === null ? NO_LATENCY : Math.round((performance.now() - due) * 1000),
        );
      },
      check: (name: string, condition: unknown) => {
        if (typeof name !== "string" || name === "") {
          throw new TypeError(`ctx.check(name, condition) needs a name, got ${String(name)}`);
        }
        const passed = Boolean(condition);
        stats.check(name, passed);
        return passed;
      },
      user: Object.freeze({
        id: identity.index,
        index: identity.index,
        kindIndex: identity.kindIndex,
        kind: this.#kind.kind,
      }),
      run: this.#env.run,
      data: this.#env.data,
      state: {},
      signal,
      sleep: (seconds: number) => this.#sleep(seconds),
    };
  }

  /** Whether the user has ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Ends the user after its current task; think time is cut short. */
  stop(): void {
    this.#stopping = true;
    this.#wake?.();
    this.#release();
  }

  /** Cuts off the current task: in-flight requests are counted as aborted. */
  abort(): void {
    this.stop();
    this.#abort.abort(new RunStopped());
  }

  /**
   * A driven user runs one iteration that was due at `dueMs` (`performance.now()` time): its
   * requests' corrected latency counts from then. Returns false when the user cannot go on
   * (stopped, or a task threw {@link StopUser}).
   */
  async iterate(dueMs: number): Promise<boolean> {
    if (this.#stopping) return false;
    this.#started.started++;
    const running = this.#runTask(dueMs);
    this.#running = running;
    try {
      if (await running) return true;
      this.stop();
      return false;
    } finally {
      this.#running = null;
    }
  }

  #sleep(seconds: number): Promise<void> {
    if (this.#stopping) return Promise.reject(new RunStopped());
    if (!(seconds > 0)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const cancel = setLongTimeout(() => {
        this.#wake = null;
        resolve();
      }, seconds * 1000);
      this.#wake = () => {
        cancel();
        this.#wake = null;
        reject(new RunStopped());
      };
    });
  }

  async #runHook(name: "onStart" | "onStop"): Promise<boolean> {
    const hook = this.#kind[name];
    if (!hook) return true;
    try {
      await hook(this.#context);
      return true;
    } catch (error) {
      if (error instanceof StopUser || this.#isStop(error)) return false;
      this.#env.stats.record("TASK", name, 0, NO_LATENCY, 0, failureText(error));
      return false;
    }
  }

  #isStop(error: unknown): boolean {
    return error instanceof RunStopped || (this.#abort.signal.aborted);
  }

  /**
   * Runs one task picked by weight; its requests' corrected latency counts from `dueMs` when
   * given. Returns false when the user should end (StopUser, or the run stopping it).
   */
  async #runTask(dueMs: number | null): Promise<boolean> {
    const task = this.#pick();
    this.#http.intendedStartMs = dueMs;
    // With traces on, the iteration is the root span of the task's requests.
    const iteration = this.#env.tracer?.begin(this.#http, this.#context.user, task.name);
    try {
      await task.run(this.#context);
      return true;
    } catch (error) {
      return this.#taskThrew(task, iteration, error);
    } finally {
      this.#http.intendedStartMs = null;
      iteration?.end();
    }
  }

  /** Counts a task that threw as a failure; returns false when the user should end. */
  #taskThrew(task: NormalizedTask, iteration: IterationSpan | undefined, error: unknown): boolean {
    if (error instanceof StopUser || this.#isStop(error)) return false;
    const text = failureText(error);
    this.#env.stats.record("TASK", task.name, 0, NO_LATENCY, 0, text);
    iteration?.fail(text);
    return true;
  }

  async #driven(released: Promise<void>): Promise<void> {
    try {
      await released;
      // The iteration in progress ends (or is cut off by abort()) before the user does.
      await this.#running;
      if (!this.#abort.signal.aborted && await this.ready) await this.#runHook("onStop");
    } finally {
      this.#http.close();
    }
  }

  async #loop(): Promise<void> {
    try {
      await this.#runTasks();
    } finally {
      // The user's keep-alive connections go with it, so a ramp-down does not leak sockets.
      this.#http.close();
    }
  }

  /** Whether the run's iteration limit or the kind's per-user one lets this user start another. */
  #mayStartIteration(): boolean {
    const perUser = this.#kind.iterations;
    if (perUser !== undefined && this.#iterations >= perUser) return false;
    if (this.#env.budget !== undefined && !this.#env.budget.take()) return false;
    this.#iterations++;
    this.#started.started++;
    return true;
  }

  async #runTasks(): Promise<void> {
    // Start on a fresh turn of the event loop, so a spawn batch is not run inside one message.
    await Promise.resolve();
    if (!(await this.#runHook("onStart"))) return;
    const pacingMs = this.#kind.pacingS === undefined ? null : this.#kind.pacingS * 1000;
    let lastStartMs: number | null = null;
    const http = this.#http;
    const tracer = this.#env.tracer;
    while (!this.#stopping && this.#mayStartIteration()) {
      // With pacing, an iteration is due one pace after the last one started (as Locust's
      // constant_pacing, no catching up): one that starts later than that is late by as much.
      const startedMs = pacingMs === null ? 0 : performance.now();
      const dueMs = pacingMs === null ? null : (lastStartMs ?? startedMs - pacingMs) + pacingMs;
      lastStartMs = startedMs;
      // #runTask written out: one async call and its await less per iteration.
      const task = this.#pick();
      http.intendedStartMs = dueMs;
      const iteration = tracer?.begin(http, this.#context.user, task.name);
      let goOn = true;
      try {
        await task.run(this.#context);
      } catch (error) {
        goOn = this.#taskThrew(task, iteration, error);
      } finally {
        http.intendedStartMs = null;
        iteration?.end();
      }
      if (!goOn || this.#stopping) break;
      // Each await is a turn of the microtask queue: none for no think time, none when the
      // event loop is not starved (at 100 k requests/s, two turns were 5 % of the throughput).
      const seconds = pacingMs === null
        ? this.#thinkTime()
        : Math.max(0, (startedMs + pacingMs - performance.now()) / 1000);
      if (seconds > 0) {
        try {
          await this.#sleep(seconds);
        } catch {
          break;
        }
      }
      const starved = this.#env.yieldIfStarved(this.#nowForStarvation());
      if (starved !== undefined) await starved;
    }
    if (!this.#abort.signal.aborted) await this.#runHook("onStop");
  }

  /**
   * "Now" for the starvation check after an iteration: the end of the worker's last request when
   * one ended since this user last asked (its own, at the latest), else a clock read. Late by at
   * most what the iteration did after its request: a starved loop is then seen an iteration on.
   */
  #nowForStarvation(): number {
    const clock = this.#env.clock;
    if (clock === undefined || clock.reads === this.#clockReads) return performance.now();
    this.#clockReads = clock.reads;
    return clock.lastMs;
  }

  /** The kind's think time; a wait function that throws counts as a failure and waits none. */
  #thinkTime(): number {
    try {
      const seconds = this.#kind.wait();
      return Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
    } catch (error) {
      this.#env.stats.record("TASK", "wait", 0, NO_LATENCY, 0, failureText(error));
      return 0;
    }
  }
}
