// A virtual user: one async loop running its kind's tasks, with its own `ctx` and HTTP client.
import { describeError, RunStopped, StopUser } from "../errors.ts";
import type { HttpClient } from "../http/types.ts";
import type { RequestTracer } from "../http/tracing.ts";
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

/** What every user of a load worker shares. */
export interface UserEnvironment {
  stats: RequestSink;
  run: RunInfo;
  /** The plan's data feeds, shared by every user of the worker. */
  data: Readonly<Record<string, DataFeed>>;
  createHttpClient(signal: AbortSignal): HttpClient;
  /** Yields to the event loop when tasks have kept it busy (CPU-bound tasks, no think time). */
  yieldIfStarved(): Promise<void> | undefined;
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

/**
 * One virtual user: runs its kind's tasks, picked by weight, with think time after each, until
 * it is stopped or a task throws {@link StopUser}.
 */
export class VirtualUser {
  readonly #kind: NormalizedUserKind;
  readonly #env: UserEnvironment;
  readonly #abort = new AbortController();
  readonly #pick: () => NormalizedTask;
  readonly #context: TaskContext;
  #stopping = false;
  #wake: (() => void) | null = null;
  /** Settles when the user's loop has ended. */
  readonly done: Promise<void>;

  constructor(identity: UserIdentity, kind: NormalizedUserKind, env: UserEnvironment) {
    this.#kind = kind;
    this.#env = env;
    this.#pick = taskPicker(kind.tasks);
    const stats = env.stats;
    const signal = this.#abort.signal;
    this.#context = {
      http: env.createHttpClient(signal),
      record: (r: RecordedRequest) => {
        const error = r.error ? String(r.error) : null;
        stats.record(
          String(r.type),
          String(r.name),
          0,
          Math.round(r.durationMs * 1000),
          r.bytes ?? 0,
          error,
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
        kind: kind.kind,
      }),
      run: env.run,
      data: env.data,
      state: {},
      signal,
      sleep: (seconds: number) => this.#sleep(seconds),
    };
    this.done = this.#loop();
  }

  /** The kind of this user. */
  get kind(): string {
    return this.#kind.kind;
  }

  /** Ends the user after its current task; think time is cut short. */
  stop(): void {
    this.#stopping = true;
    this.#wake?.();
  }

  /** Cuts off the current task: in-flight requests are counted as aborted. */
  abort(): void {
    this.stop();
    this.#abort.abort(new RunStopped());
  }

  #sleep(seconds: number): Promise<void> {
    if (this.#stopping) return Promise.reject(new RunStopped());
    if (!(seconds > 0)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, seconds * 1000);
      this.#wake = () => {
        clearTimeout(timer);
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
      this.#env.stats.record("TASK", name, 0, NO_LATENCY, 0, describeError(error));
      return false;
    }
  }

  #isStop(error: unknown): boolean {
    return error instanceof RunStopped || (this.#abort.signal.aborted);
  }

  async #loop(): Promise<void> {
    try {
      await this.#runTasks();
    } finally {
      // The user's keep-alive connections go with it, so a ramp-down does not leak sockets.
      this.#context.http.close();
    }
  }

  async #runTasks(): Promise<void> {
    // Start on a fresh turn of the event loop, so a spawn batch is not run inside one message.
    await Promise.resolve();
    if (!(await this.#runHook("onStart"))) return;
    const stats = this.#env.stats;
    while (!this.#stopping) {
      const task = this.#pick();
      // With traces on, the iteration is the root span of the task's requests.
      const iteration = this.#env.tracer?.begin(this.#context.http, this.#context.user, task.name);
      try {
        await task.run(this.#context);
      } catch (error) {
        if (error instanceof StopUser) break;
        if (this.#isStop(error)) break;
        const text = describeError(error);
        stats.record("TASK", task.name, 0, NO_LATENCY, 0, text);
        iteration?.fail(text);
      } finally {
        iteration?.end();
      }
      if (this.#stopping) break;
      // Each await is a turn of the microtask queue: none for no think time, none when the
      // event loop is not starved (at 100 k requests/s, two turns were 5 % of the throughput).
      const seconds = this.#kind.wait();
      if (seconds > 0) {
        try {
          await this.#sleep(seconds);
        } catch {
          break;
        }
      }
      const starved = this.#env.yieldIfStarved();
      if (starved !== undefined) await starved;
    }
    if (!this.#abort.signal.aborted) await this.#runHook("onStop");
  }
}
