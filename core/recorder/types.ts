// The recorder contract: what a recorder plugin is and what it receives. Types only; plugin
// authors import them from Stampede's "./recorder" export. The registry finds plugins, the
// recorder set calls them (with the timeouts and isolation that no plugin writes itself).
import type { RunInfo, StopReason } from "../run_info.ts";
import type { TextSink } from "../sink.ts";
import type { ThresholdResult } from "../stats/thresholds.ts";
import type { CheckResult } from "../stats/checks.ts";
import type { IterationCounts } from "../stats/iterations.ts";
import type { EndpointHistogram, FailureStats, IntervalCell, StatsView } from "../stats/types.ts";

export type { CheckResult, IterationCounts, StopReason, TextSink, ThresholdResult };

/** The details each lifecycle event carries, by event name (snake_case: they go on the wire). */
export interface LifecycleEventData {
  /** The run's clock starts: every load worker is ready. */
  test_start: {
    started_at: string;
    users: number;
    /** Users started per second; `null` when all start at once. */
    spawn_rate: number | null;
    /** Planned run time, or null when the run goes on until stopped. */
    run_time_ms: number | null;
    workers: number;
    host: string;
  };
  /** Every planned user has been started (for stages: the peak reached; a shape: its first target). */
  spawning_complete: { users: number; users_by_kind: Record<string, number> };
  /**
   * A threshold was found crossed: an abortOnFail one during the run (which then stops), the
   * others at the end. `value` is what it observed (null: nothing matched its filter).
   */
  threshold_crossed: { metric: string; expression: string; value: number | null };
  /** A stage of the load profile began: a linear ramp to `users` over `duration_ms`. */
  stage_started: { stage: number; users: number; duration_ms: number };
  /** The run is over; the final stats were handed out just before. */
  test_stop: { reason: StopReason; ended_at: string; duration_ms: number };
  /** A load-generating thread has been busy above the threshold for `duration_ms`. */
  cpu_warning: {
    cpu_percent: number;
    cpu_wait_percent?: number;
    threshold_percent: number;
    duration_ms: number;
  };
  /**
   * A load-generating thread's event loop has lagged above the threshold (p99) for several
   * samples in a row; said again each time the lag doubles.
   */
  event_loop_lag_warning: { lag_p99_ms: number; threshold_ms: number };
  /** A load worker loaded the plan and is ready. */
  worker_started: Record<string, never>;
  /** A load worker ended every user and sent its last stats. */
  worker_stopped: Record<string, never>;
  /** A load worker failed or went silent; the run goes on without it. */
  worker_failed: { message: string };
  /**
   * An arrival-rate iteration was dropped for the first time (no user of the pool free within
   * the lateness bound); said once, the count is in the final stats.
   */
  iterations_dropped: { kind: string; dropped: number };
  /**
   * A worker process on another machine is gone (silent past the heartbeat tolerance, or its
   * connection closed): said once, with the process as the source; its last delivered stats are
   * kept and its users move to the live load workers.
   */
  worker_lost: { message: string };
}

/** Names of lifecycle events. */
export type LifecycleEventName = keyof LifecycleEventData;

/**
 * A lifecycle event, emitted once, by the coordinator: a union keyed by `name`, so
 * `if (event.name === "cpu_warning") event.data.cpu_percent` type-checks.
 */
export type LifecycleEvent = {
  [N in LifecycleEventName]: {
    name: N;
    /** When it happened, RFC 3339 UTC with milliseconds. */
    at: string;
    /** What caused it: `coordinator`, `worker-N`, a worker process `host-a` or its `host-a/worker-N`. */
    source: string;
    data: LifecycleEventData[N];
  };
}[LifecycleEventName];

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
  /** Named checks since the start (passes and fails by name), in the order first seen. */
  checks: CheckResult[];
  /** Iterations (task runs) started and dropped since the start, by user kind. */
  iterations: IterationCounts[];
  /**
   * The arrival rate each open-model kind is configured to have now, in iterations per second
   * (empty when the run has no arrival rate).
   */
  targetRates: Record<string, number>;
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
  /**
   * The whole run's latency histogram of every endpoint and of the total (method `""`, name
   * `Aggregated`), merged exactly across workers: for exports that carry histograms.
   */
  histograms: EndpointHistogram[];
  /** Every threshold's verdict (empty when the run has none). */
  thresholds: ThresholdResult[];
  /** Every named check of the run: passes and fails by name (empty when the plan has none). */
  checks: CheckResult[];
  /** Iterations (task runs) started and dropped over the run, by user kind. */
  iterations: IterationCounts[];
}

/**
 * One sample of a load-generating thread over the span before `at` (`intervalMs`). A value the
 * OS does not give is absent, never guessed.
 */
export interface SystemSample {
  /** When it was taken, RFC 3339 UTC with milliseconds. */
  at: string;
  /** `coordinator`, `worker-N`, a worker process `host-a` or its load worker `host-a/worker-N`. */
  source: string;
  /** CPU time of this source's own thread over the span, in percent of one core. */
  cpuPercent?: number;
  /** Time this source's thread was ready to run but waited for a core (taken by other threads
   * or processes), in percent of the span: with `cpuPercent`, how busy the thread was. */
  cpuWaitPercent?: number;
  /** Resident memory of the process, in bytes (the coordinator and each worker process only:
   * load workers share their process's). */
  rssBytes?: number;
  /** JavaScript heap in use by this source's isolate, in bytes. */
  heapUsedBytes?: number;
  /** Bytes sent and received over the span by every interface of the machine's network
   * namespace (`/proc/net/dev`, loopback included): the coordinator and each worker process. */
  networkSentBytes?: number;
  networkReceivedBytes?: number;
  /** 99th percentile of this thread's event-loop lag over the span, in ms. */
  eventLoopLagP99Ms?: number;
  /** CPU time of the whole process (every thread) over the span, in percent of one core
   * (the coordinator and each worker process). */
  processCpuPercent?: number;
  /** Length of the span the sample covers, in ms. */
  intervalMs?: number;
}

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

/**
 * Receives the request stats in batches, merged across workers: once per interval and once at
 * the end, never one call per request.
 */
export interface RequestStatsHandler {
  interval(snapshot: IntervalSnapshot): void | Promise<void>;
  final(snapshot: FinalSnapshot): void | Promise<void>;
}

/** @deprecated Renamed {@link RequestStatsHandler}: it receives stats, not requests. */
export type RequestHandler = RequestStatsHandler;

/** Receives system samples of the load-generating processes. */
export interface SystemHandler {
  samples(samples: SystemSample[]): void | Promise<void>;
}

/** A running recorder: any of the four handlers. */
export interface Recorder {
  output?: OutputHandler;
  lifecycle?: LifecycleHandler;
  request?: RequestStatsHandler;
  system?: SystemHandler;
  /**
   * Problems the recorder met that the summary should list (e.g. failed exports), one line
   * each; read once, after `output.stop`.
   */
  problems?(): string[];
}

/** A CLI option a recorder plugin adds. */
export interface RecorderOption {
  /** commander flags, e.g. `--json-file <path>`; a flag without a value is a boolean. */
  flags: string;
  description: string;
  /** Environment variable that sets it, e.g. `STAMPEDE_JSON_FILE`. */
  env?: string;
  default?: string;
}

/** What a recorder is created with. */
export interface RecorderContext {
  run: RunInfo;
  /**
   * Values of the plugin's options by camelCase name (`jsonFile`): strings, booleans for
   * flags without a value; read them with `stringOption` and `booleanOption`.
   */
  options: Record<string, unknown>;
  /** Percentiles the run reports. */
  percentiles: readonly number[];
  statsIntervalMs: number;
  /** Where the recorder's own text goes; stderr when another recorder owns stdout. */
  stdout: TextSink;
  stderr: TextSink;
}

/**
 * A recorder plugin: an id, options, metadata and a factory of recorders.
 *
 * @example A recorder that prints the request count at the end
 * ```ts
 * import type { RecorderPlugin } from "./types.ts";
 *
 * const counter: RecorderPlugin = {
 *   id: "count",
 *   create: (context) => ({
 *     request: {
 *       interval: () => {},
 *       final: (s) => context.stdout.write(`${s.cumulative.total.requests} requests\n`),
 *     },
 *   }),
 * };
 * export default counter;
 * ```
 */
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
