import { getLogger } from "@logtape/logtape";
import { describeError, UsageError } from "../errors.ts";
import type { RunInfo } from "../run_info.ts";
import type { FailureStats, IntervalCell, StatsView } from "../stats/aggregator.ts";

/** Names of lifecycle events. */
export type LifecycleEventName =
  | "test_start"
  | "spawning_complete"
  | "test_stop"
  | "cpu_warning"
  | "worker_started"
  | "worker_stopped"
  | "worker_failed";

/** A lifecycle event, emitted once, by the coordinator. */
export interface LifecycleEvent {
  name: LifecycleEventName;
  /** When it happened, RFC 3339 UTC with milliseconds. */
  at: string;
  /** What caused it: `coordinator` or `worker-N`. */
  source: string;
  /** Event details, e.g. `{ users: { shopper: 15 } }` for `spawning_complete`. */
  data: Record<string, unknown>;
}

/** What recorders get once per stats interval. */
export interface IntervalSnapshot {
  at: string;
  /** Run time so far, in milliseconds. */
  elapsedMs: number;
  /** Planned run time in ms, or null when the run goes on until stopped. */
  runTimeMs: number | null;
  /** Running users in total and by kind, as the workers last reported. */
  users: number;
  usersByKind: Record<string, number>;
  /** Load workers running. */
  workers: number;
  /** The rolling window (last 10 s): current RPS and current percentiles. */
  window: StatsView;
  /** Everything since the start. */
  cumulative: StatsView;
  /** This interval's requests by endpoint, status and outcome, with their histograms. */
  cells: IntervalCell[];
  /** Failures since the start by endpoint and error text, most frequent first. */
  failures: FailureStats[];
}

/** What recorders get once, at the end. */
export interface FinalSnapshot {
  at: string;
  elapsedMs: number;
  reason: StopReason;
  /** Peak users of the run. */
  users: number;
  usersByKind: Record<string, number>;
  cumulative: StatsView;
  failures: FailureStats[];
  /** The last interval's cells (what came in after the last interval snapshot). */
  cells: IntervalCell[];
}

/**
 * One sample of a load-generating thread over the span before `at` (`intervalMs`). A value the
 * OS does not give is absent, never guessed.
 */
export interface SystemSample {
  /** When it was taken, RFC 3339 UTC with milliseconds. */
  at: string;
  /** `coordinator` or `worker-N`. */
  source: string;
  /** CPU time of this source's own thread over the span, in percent of one core. */
  cpuPercent?: number;
  /** Time this source's thread was ready to run but waited for a core (taken by other threads
   * or processes), in percent of the span: with `cpuPercent`, how busy the thread was. */
  cpuWaitPercent?: number;
  /** Resident memory of the process, in bytes (the coordinator only: workers share it). */
  rssBytes?: number;
  /** JavaScript heap in use by this source's isolate, in bytes. */
  heapUsedBytes?: number;
  /** Bytes sent and received over the span by every interface of the machine's network
   * namespace (`/proc/net/dev`, loopback included): the coordinator only. */
  networkSentBytes?: number;
  networkReceivedBytes?: number;
  /** 99th percentile of this thread's event-loop lag over the span, in ms. */
  eventLoopLagP99Ms?: number;
  /** CPU time of the whole process (every thread) over the span, in percent of one core
   * (the coordinator only). */
  processCpuPercent?: number;
  /** Length of the span the sample covers, in ms. */
  intervalMs?: number;
}

/** Why the run ended. */
export type StopReason =
  | "completed"
  | "interrupted"
  | "terminated"
  | "all_users_stopped"
  | "failed";

/** Opens and closes what records leave through (a file, an exporter, a terminal). */
export interface OutputHandler {
  /** Flushes and closes; told how the run ended. */
  stop(reason: StopReason): void | Promise<void>;
  /**
   * How long `stop` may take, in ms, when it needs longer than the usual call timeout (a final
   * export with its own timeout, a scrape endpoint that lingers). The run's exit waits for it.
   */
  readonly stopTimeoutMs?: number;
}

/** Receives lifecycle events. */
export interface LifecycleHandler {
  event(event: LifecycleEvent): void | Promise<void>;
}

/** Receives request stats in batches: never one call per request. */
export interface RequestHandler {
  interval(snapshot: IntervalSnapshot): void | Promise<void>;
  final(snapshot: FinalSnapshot): void | Promise<void>;
}

/** Receives system samples of the load-generating processes. */
export interface SystemHandler {
  samples(samples: SystemSample[]): void | Promise<void>;
}

/** A running recorder: any of the four handlers. */
export interface Recorder {
  output?: OutputHandler;
  lifecycle?: LifecycleHandler;
  request?: RequestHandler;
  system?: SystemHandler;
  /**
   * Problems the recorder met that the summary should list (e.g. failed exports), one line
   * each; read once, after `output.stop`.
   */
  problems?(): string[];
}

/** A text sink (stdout, stderr, a memory buffer in tests). */
export interface TextSink {
  write(text: string): void;
  /** Whether it is an interactive terminal (live redraw in place). */
  readonly isTerminal: boolean;
}

/** A CLI option a recorder plugin adds. */
export interface RecorderOption {
  /** commander flags, e.g. `--json-file <path>`. */
  flags: string;
  description: string;
  /** Environment variable that sets it, e.g. `STAMPEDE_JSON_FILE`. */
  env?: string;
  default?: string;
}

/** What a recorder is created with. */
export interface RecorderContext {
  run: RunInfo;
  /** Values of the plugin's options by camelCase name (`jsonFile`). */
  options: Record<string, unknown>;
  /** Percentiles the run reports. */
  percentiles: readonly number[];
  statsIntervalMs: number;
  stdout: TextSink;
  stderr: TextSink;
}

/** A recorder plugin: an id, options, metadata and a factory of recorders. */
export interface RecorderPlugin {
  id: string;
  description?: string;
  options?: RecorderOption[];
  /** Adds run metadata (attached to every record of every recorder). */
  metadata?(options: Record<string, unknown>): Record<string, string>;
  /**
   * Whether, with these options, the recorder writes machine-readable records to stdout. The
   * other recorders then get stderr as their `stdout`, so a pipe sees only those records.
   */
  ownsStdout?(options: Record<string, unknown>): boolean;
  create(context: RecorderContext): Recorder | Promise<Recorder>;
}

/** Whether `value` looks like a recorder plugin. */
export function isRecorderPlugin(value: unknown): value is RecorderPlugin {
  return typeof value === "object" && value !== null &&
    typeof (value as RecorderPlugin).id === "string" &&
    typeof (value as RecorderPlugin).create === "function";
}

/** Finds recorder plugins by id (built-in) or by module path, loading each lazily. */
export class RecorderRegistry {
  readonly #loaders = new Map<string, () => Promise<RecorderPlugin>>();

  /** Registers a built-in recorder, loaded on first use. */
  register(id: string, load: () => Promise<RecorderPlugin>): this {
    this.#loaders.set(id, load);
    return this;
  }

  /** Ids of the registered recorders. */
  get ids(): string[] {
    return [...this.#loaders.keys()];
  }

  /** Loads the plugin named by `spec`: a registered id or a path/URL to a module. */
  async load(spec: string, cwd: string = Deno.cwd()): Promise<RecorderPlugin> {
    const builtin = this.#loaders.get(spec);
    if (builtin) return await builtin();
    if (!/^(\.{0,2}\/|file:|https?:)|\.[cm]?[jt]s$/.test(spec)) {
      throw new UsageError(
        `Cannot load recorder "${spec}": no such recorder; use one of ${
          this.ids.join(", ")
        } or a path to a plugin module`,
      );
    }
    const url = /^(file|https?):/.test(spec)
      ? spec
      : new URL(spec, `file://${cwd.endsWith("/") ? cwd : cwd + "/"}`).href;
    let module: Record<string, unknown>;
    try {
      module = await import(url);
    } catch (cause) {
      throw new UsageError(`Cannot load recorder "${spec}": ${describeError(cause)}`, { cause });
    }
    const plugin = module.default ?? module.recorder;
    if (!isRecorderPlugin(plugin)) {
      throw new UsageError(
        `Cannot load recorder "${spec}": its default export is not a recorder plugin ({ id, create })`,
      );
    }
    return plugin;
  }
}

/** How long one handler call may take before it is reported as hanging. */
export const RECORDER_CALL_TIMEOUT_MS = 5_000;

interface Member {
  id: string;
  recorder: Recorder;
  /** Calls to one recorder run one after another, in order. */
  chain: Promise<void>;
  /** A call ran past the timeout and has not settled yet. */
  hung: boolean;
}

/**
 * The recorders of a run. Calls reach every recorder in order; one that throws or hangs is
 * reported once per handler and the run and the other recorders go on.
 */
export class RecorderSet {
  readonly #members: Member[];
  readonly #timeoutMs: number;
  readonly #reported = new Set<string>();
  readonly #log = getLogger(["stampede", "recorders"]);
  /** Problems reported so far, one line each. */
  readonly problems: string[] = [];

  constructor(
    recorders: { id: string; recorder: Recorder }[],
    timeoutMs = RECORDER_CALL_TIMEOUT_MS,
  ) {
    this.#members = recorders.map((r) => ({ ...r, chain: Promise.resolve(), hung: false }));
    this.#timeoutMs = timeoutMs;
  }

  #report(id: string, where: string, message: string): void {
    const key = `${id}:${where}`;
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    const line = `recorder "${id}" ${message} in ${where}; the run goes on`;
    this.problems.push(line);
    this.#log.warn(line);
  }

  /**
   * Queues a call on every recorder that has the handler. A `droppable` call (a periodic
   * snapshot) is skipped while the recorder hangs in an earlier call, so a hung recorder never
   * builds a backlog that would delay the end; skipping is reported.
   */
  #call(
    where: string,
    pick: (recorder: Recorder) => (() => unknown) | undefined,
    droppable = false,
    timeoutOf: (recorder: Recorder) => number = () => this.#timeoutMs,
  ): void {
    for (const member of this.#members) {
      const call = pick(member.recorder);
      if (!call) continue;
      if (droppable && member.hung) {
        this.#report(member.id, `${where} (skipped while it hangs)`, "lost snapshots");
        continue;
      }
      const timeoutMs = timeoutOf(member.recorder);
      member.chain = member.chain.then(async () => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const hung = new Promise<"hung">((resolve) => {
          timer = setTimeout(() => resolve("hung"), timeoutMs);
        });
        try {
          const pending = Promise.resolve().then(call);
          const outcome = await Promise.race([pending, hung]);
          if (outcome === "hung") {
            member.hung = true;
            pending.then(() => member.hung = false, () => member.hung = false);
            this.#report(member.id, where, `did not answer within ${timeoutMs} ms`);
          }
        } catch (error) {
          this.#report(member.id, where, `failed (${describeError(error)})`);
        } finally {
          clearTimeout(timer);
        }
      });
    }
  }

  lifecycle(event: LifecycleEvent): void {
    this.#call("lifecycle.event", (r) => r.lifecycle && (() => r.lifecycle!.event(event)));
  }

  interval(snapshot: IntervalSnapshot): void {
    this.#call("request.interval", (r) => r.request && (() => r.request!.interval(snapshot)), true);
  }

  final(snapshot: FinalSnapshot): void {
    this.#call("request.final", (r) => r.request && (() => r.request!.final(snapshot)));
  }

  samples(samples: SystemSample[]): void {
    this.#call("system.samples", (r) => r.system && (() => r.system!.samples(samples)), true);
  }

  /** Stops every recorder (they flush) and waits for all calls, each bounded by the timeout. */
  async stop(reason: StopReason): Promise<void> {
    this.#call(
      "output.stop",
      (r) => r.output && (() => r.output!.stop(reason)),
      false,
      (r) => Math.max(this.#timeoutMs, r.output?.stopTimeoutMs ?? 0),
    );
    await Promise.all(this.#members.map((m) => m.chain));
    for (const member of this.#members) {
      try {
        for (const line of member.recorder.problems?.() ?? []) {
          this.problems.push(`recorder "${member.id}": ${line}`);
        }
      } catch (error) {
        this.#report(member.id, "problems", `failed (${describeError(error)})`);
      }
    }
  }
}
