// The JSON structured-log recorder: one JSON object per line, for Loki, ELK, Datadog and friends.
// Records are LogTape log records in its JSON Lines format; every one carries the run's facts.
import { getJsonLinesFormatter, type LogLevel, type LogRecord } from "npm:@logtape/logtape@2.4.2";
import { roundTo } from "../core/numbers.ts";
import { booleanOption, stringOption } from "../core/option_values.ts";
import { openFileSink, type TextSink } from "../core/sink.ts";
import { encodeHistogram } from "../core/stats/histogram.ts";
import { iterationTotals } from "../core/stats/iterations.ts";
import type {
  CheckResult,
  FinalSnapshot,
  IntervalSnapshot,
  IterationCounts,
  LifecycleEvent,
  LifecycleEventName,
  Recorder,
  RecorderContext,
  RecorderPlugin,
  SystemSample,
} from "../core/recorder/types.ts";
import type { RunInfo } from "../core/run_info.ts";
import {
  endpointKey,
  type EndpointStats,
  type FailureStats,
  TOTAL_NAME,
} from "../core/stats/types.ts";

/** `telemetry_name` of each lifecycle event. */
export const EVENT_NAMES: Readonly<Record<LifecycleEventName, string>> = {
  test_start: "stampede.event.test.start",
  spawning_complete: "stampede.event.spawn.complete",
  stage_started: "stampede.event.stage.started",
  test_stop: "stampede.event.test.stop",
  cpu_warning: "stampede.event.cpu.warning",
  threshold_crossed: "stampede.event.threshold.crossed",
  event_loop_lag_warning: "stampede.event.event_loop_lag.warning",
  worker_started: "stampede.event.worker.started",
  worker_stopped: "stampede.event.worker.stopped",
  worker_failed: "stampede.event.worker.failed",
  worker_lost: "stampede.event.worker.lost",
  iterations_dropped: "stampede.event.iterations.dropped",
};

/** `telemetry_name` of each metrics record. */
export const METRIC_NAMES = {
  requestStats: "stampede.request.metric.stats",
  cpu: "stampede.system.metric.cpu",
  memory: "stampede.system.metric.mem",
  network: "stampede.system.metric.network",
  eventLoopLag: "stampede.system.metric.event_loop_lag",
} as const;

/** Events that point at a problem are logged at level WARN, the others at INFO. */
const WARNING_EVENTS = new Set<LifecycleEventName>([
  "cpu_warning",
  "threshold_crossed",
  "event_loop_lag_warning",
  "worker_failed",
  "worker_lost",
  "iterations_dropped",
]);

/** Fields every record carries; an event detail of the same name is renamed. */
const RESERVED_FIELDS = new Set([
  "@timestamp",
  "level",
  "message",
  "logger",
  "telemetry_type",
  "telemetry_name",
  "run_id",
  "testplan",
  "source",
  "tags",
  "metadata",
]);
/** Event details with a name of their own on the wire: a failed worker's `message` is its error. */
const RENAMED_DETAILS: Readonly<Record<string, string>> = { message: "error" };

/** Options of a {@link JsonRecorder}. */
export interface JsonRecorderOptions {
  run: RunInfo;
  percentiles: readonly number[];
  /** Where the lines go: stdout, a file, memory in tests; closed at the stop if it can be. */
  sink: Pick<TextSink, "write" | "close">;
  /** Add each endpoint's cumulative HDR histogram to the final records. */
  histograms?: boolean;
}

/** The key of a percentile's field: 99.9 → `percentile_99_9_ms`. */
export function percentileKey(p: number | string): string {
  return `percentile_${String(p).replace(".", "_")}_ms`;
}

/** Latency and rate fields of a stats view, with units in the names. */
function latencyFields(stats: EndpointStats, percentiles: readonly number[]) {
  const fields: Record<string, number> = {
    min_ms: roundTo(stats.minMs),
    max_ms: roundTo(stats.maxMs),
    mean_ms: roundTo(stats.meanMs),
  };
  for (const p of percentiles) {
    fields[percentileKey(p)] = roundTo(stats.percentilesMs[String(p)] ?? 0);
  }
  // Latency from when each iteration was due, in cumulative views that have it.
  if (stats.correctedPercentilesMs !== undefined) {
    for (const p of percentiles) {
      fields[`corrected_${percentileKey(p)}`] = roundTo(
        stats.correctedPercentilesMs[String(p)] ?? 0,
      );
    }
    fields.corrected_max_ms = roundTo(stats.correctedMaxMs ?? 0);
  }
  return fields;
}

/** Named checks since the start, on the run's stats records (none: no field). */
function checksField(checks: readonly CheckResult[]): { checks?: CheckResult[] } {
  return checks.length > 0 ? { checks: checks.map((c) => ({ ...c })) } : {};
}

/** Iterations started and dropped since the start, and the arrival rates configured now. */
function iterationFields(
  iterations: readonly IterationCounts[],
  targetRates?: Record<string, number>,
): Record<string, unknown> {
  const { started, dropped } = iterationTotals(iterations);
  return {
    iterations: started,
    dropped_iterations: dropped,
    ...(targetRates && Object.keys(targetRates).length > 0
      ? {
        target_rates: Object.fromEntries(
          Object.entries(targetRates).map(([kind, rate]) => [kind, roundTo(rate)]),
        ),
      }
      : {}),
  };
}

/**
 * Writes every event, request snapshot and system sample as one JSON line: lifecycle events as
 * `telemetry_type: "event"`, stats and samples as `telemetry_type: "metrics"`.
 */
export class JsonRecorder implements Recorder {
  readonly #run: RunInfo;
  readonly #percentiles: readonly number[];
  readonly #sink: Pick<TextSink, "write" | "close">;
  readonly #format = getJsonLinesFormatter({ properties: "flatten", message: "template" });
  readonly #histograms: boolean;
  #closed = false;

  constructor(options: JsonRecorderOptions) {
    this.#run = options.run;
    this.#percentiles = options.percentiles;
    this.#sink = options.sink;
    this.#histograms = options.histograms ?? false;
  }

  #line(
    level: LogLevel,
    type: "event" | "metrics",
    name: string,
    source: string,
    at: string,
    fields: Record<string, unknown>,
  ): string {
    const record: LogRecord = {
      category: ["stampede", "telemetry"],
      level,
      message: [name],
      rawMessage: name,
      timestamp: Date.parse(at),
      properties: {
        telemetry_type: type,
        telemetry_name: name,
        run_id: this.#run.runId,
        testplan: this.#run.testplan,
        source,
        tags: this.#run.tags,
        metadata: this.#run.metadata,
        ...fields,
      },
    };
    return this.#format(record);
  }

  #write(lines: string[]): void {
    if (lines.length > 0 && !this.#closed) this.#sink.write(lines.join(""));
  }

  readonly output = {
    stop: () => {
      if (this.#closed) return;
      this.#closed = true;
      this.#sink.close?.();
    },
  };

  readonly lifecycle = {
    event: (event: LifecycleEvent) => {
      const fields: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(event.data)) {
        // Event details never overwrite the fields every record carries.
        fields[RENAMED_DETAILS[key] ?? (RESERVED_FIELDS.has(key) ? `detail_${key}` : key)] = value;
      }
      if (event.name === "test_start") {
        fields.version = this.#run.version;
      }
      const level = WARNING_EVENTS.has(event.name) ? "warning" : "info";
      this.#write([
        this.#line(level, "event", EVENT_NAMES[event.name], event.source, event.at, fields),
      ]);
    },
  };

  readonly request = {
    interval: (snapshot: IntervalSnapshot) => {
      const window = snapshot.window.total;
      const total = snapshot.cumulative.total;
      this.#write([
        this.#line("info", "metrics", METRIC_NAMES.requestStats, "coordinator", snapshot.at, {
          stats_type: "current",
          users: snapshot.users,
          users_by_kind: snapshot.usersByKind,
          workers: snapshot.workers,
          elapsed_ms: Math.round(snapshot.elapsedMs),
          requests: total.requests,
          failures: total.failures,
          aborted: total.aborted,
          retries: total.retries,
          bytes: total.bytes,
          current_rps: roundTo(window.rps),
          current_failures_per_sec: roundTo(window.failuresPerSec),
          window_ms: Math.round(snapshot.window.durationMs),
          ...latencyFields(window, this.#percentiles),
          ...iterationFields(snapshot.iterations, snapshot.targetRates),
          ...checksField(snapshot.checks),
        }),
      ]);
    },
    final: (snapshot: FinalSnapshot) => {
      const { cumulative } = snapshot;
      const histograms = new Map(
        this.#histograms ? snapshot.histograms.map((h) => [endpointKey(h.method, h.name), h]) : [],
      );
      const histogramField = (key: string) => {
        const found = histograms.get(key);
        return found ? { hdr_histogram_us: encodeHistogram(found.histogram) } : {};
      };
      const lines = [
        this.#line("info", "metrics", METRIC_NAMES.requestStats, "coordinator", snapshot.at, {
          stats_type: "final",
          reason: snapshot.reason,
          users: snapshot.users,
          users_by_kind: snapshot.usersByKind,
          duration_ms: Math.round(snapshot.elapsedMs),
          ...this.#statsFields(cumulative.total),
          ...(snapshot.thresholds.length > 0
            ? {
              thresholds: snapshot.thresholds.map((t) => ({
                metric: t.metric,
                expression: t.expression,
                value: t.value,
                ok: t.ok,
                limit: Number.isFinite(t.limit) ? t.limit : null,
              })),
            }
            : {}),
          ...iterationFields(snapshot.iterations),
          ...checksField(snapshot.checks),
          ...histogramField(endpointKey("", TOTAL_NAME)),
        }),
      ];
      const failures = new Map<string, FailureStats[]>();
      for (const f of snapshot.failures) {
        const key = endpointKey(f.method, f.name);
        failures.set(key, [...(failures.get(key) ?? []), f]);
      }
      for (const e of cumulative.endpoints) {
        const key = endpointKey(e.method, e.name);
        lines.push(
          this.#line("info", "metrics", METRIC_NAMES.requestStats, "coordinator", snapshot.at, {
            stats_type: "endpoint",
            method: e.method,
            name: e.name,
            status: e.failures > 0 ? "error" : "success",
            ...this.#statsFields(e),
            errors: (failures.get(key) ?? []).map((f) => ({
              error: f.error,
              occurrences: f.occurrences,
            })),
            ...histogramField(key),
          }),
        );
      }
      this.#write(lines);
    },
  };

  readonly system = {
    samples: (samples: SystemSample[]) => {
      const lines: string[] = [];
      for (const s of samples) {
        const span = s.intervalMs === undefined ? {} : { interval_ms: s.intervalMs };
        const add = (name: string, fields: Record<string, number | undefined>) => {
          const present = Object.entries(fields).filter(([, v]) => v !== undefined);
          if (present.length === 0) return;
          lines.push(
            this.#line("info", "metrics", name, s.source, s.at, {
              ...Object.fromEntries(present),
              ...span,
            }),
          );
        };
        add(METRIC_NAMES.cpu, {
          cpu_percent: s.cpuPercent,
          cpu_wait_percent: s.cpuWaitPercent,
          process_cpu_percent: s.processCpuPercent,
        });
        add(METRIC_NAMES.memory, { rss_bytes: s.rssBytes, heap_used_bytes: s.heapUsedBytes });
        add(METRIC_NAMES.network, {
          network_sent_bytes: s.networkSentBytes,
          network_received_bytes: s.networkReceivedBytes,
        });
        add(METRIC_NAMES.eventLoopLag, { event_loop_lag_p99_ms: s.eventLoopLagP99Ms });
      }
      this.#write(lines);
    },
  };

  #statsFields(stats: EndpointStats): Record<string, unknown> {
    return {
      requests: stats.requests,
      failures: stats.failures,
      aborted: stats.aborted,
      retries: stats.retries,
      bytes: stats.bytes,
      rps: roundTo(stats.rps),
      failures_per_sec: roundTo(stats.failuresPerSec),
      ...latencyFields(stats, this.#percentiles),
      status_codes: stats.statuses,
    };
  }
}

/** The `json` recorder: structured JSON lines on stdout or in `--json-file`. */
export const jsonRecorder: RecorderPlugin = {
  id: "json",
  description: "one JSON record per line (events and metrics) on stdout or in --json-file",
  options: [
    {
      flags: "--json-file <path>",
      description: "write the JSON records to this file instead of stdout",
      env: "STAMPEDE_JSON_FILE",
    },
    {
      flags: "--json-histograms",
      description: "add each endpoint's HDR latency histogram (compressed base64) to final records",
      env: "STAMPEDE_JSON_HISTOGRAMS",
    },
  ],
  ownsStdout: (options) => stringOption(options, "jsonFile") === undefined,
  create(context: RecorderContext) {
    const path = stringOption(context.options, "jsonFile");
    return new JsonRecorder({
      run: context.run,
      percentiles: context.percentiles,
      // stdout is not the recorder's to close.
      sink: path === undefined
        ? { write: (text) => context.stdout.write(text) }
        : openFileSink(path, { what: "JSON file" }),
      histograms: booleanOption(context.options, "jsonHistograms"),
    });
  },
};
