// The otel recorder: the run's metrics over OTLP/HTTP (protobuf or JSON) to an OpenTelemetry
// Collector or any OTLP backend. Request metrics come from the coordinator's merged interval
// cells (exact counts, nothing per request); gauges and the event counter use SDK instruments.
import type { Counter, Gauge } from "npm:@opentelemetry/api@1.10.0";
import {
  AggregationTemporalityPreference,
  OTLPMetricExporter as OtlpJsonMetricExporter,
} from "npm:@opentelemetry/exporter-metrics-otlp-http@0.301.0";
import { OTLPMetricExporter as OtlpProtoMetricExporter } from "npm:@opentelemetry/exporter-metrics-otlp-proto@0.301.0";
import {
  AggregationTemporality,
  InstrumentType,
  MeterProvider,
  type PushMetricExporter,
} from "npm:@opentelemetry/sdk-metrics@3.1.0";
import { getLogger } from "npm:@logtape/logtape@2.4.2";
import { redactUrls } from "../../core/redact.ts";
import type {
  CheckResult,
  FinalSnapshot,
  IntervalSnapshot,
  IterationCounts,
  LifecycleEvent,
  Recorder,
  RecorderContext,
  RecorderPlugin,
  StopReason,
  SystemSample,
} from "../../core/recorder/types.ts";
import type { RunInfo } from "../../core/run_info.ts";
import { type EnvReader, type OtelConfig, resolveOtelConfig } from "./config.ts";
import { createRunInstruments, type SystemInstruments } from "./instruments.ts";
import { IntervalExportingReader } from "./reader.ts";
import { RequestMetrics } from "./request_metrics.ts";
import { runResource } from "./resource.ts";

export { runResource };

/** The instrumentation scope of every Stampede metric. */
export const SCOPE_NAME = "stampede";

/** What the stop may take beyond the last export's OTLP timeout: collecting and shutting down. */
const STOP_MARGIN_MS = 1_000;

/** The OTLP exporter for the configured protocol, URL, headers, timeout and temporality. */
export function createOtlpExporter(config: OtelConfig): PushMetricExporter {
  const options = {
    url: config.url,
    headers: config.headers,
    timeoutMillis: config.timeoutMs,
    temporalityPreference: {
      cumulative: AggregationTemporalityPreference.CUMULATIVE,
      delta: AggregationTemporalityPreference.DELTA,
      lowmemory: AggregationTemporalityPreference.LOWMEMORY,
    }[config.temporality],
  };
  return config.protocol === "http/json"
    ? new OtlpJsonMetricExporter(options)
    : new OtlpProtoMetricExporter(options);
}

/** Sends a run's metrics to an OTLP endpoint; see README.md "### otel" for the instruments. */
export class OtelRecorder implements Recorder {
  readonly #config: OtelConfig;
  readonly #provider: MeterProvider;
  readonly #reader: IntervalExportingReader;
  readonly #requests: RequestMetrics;
  readonly #users: Gauge;
  readonly #workers: Gauge;
  readonly #thresholdOk: Gauge;
  readonly #checks: Counter;
  readonly #iterations: Counter;
  readonly #dropped: Counter;
  readonly #retries: Counter;
  /** Retries already added to the counter (the snapshots carry the run's total). */
  #retriesAdded = 0;
  readonly #targetRate: Gauge;
  /** Each kind's iterations as last added. */
  readonly #iterationsAdded = new Map<string, { started: number; dropped: number }>();
  /** Each check's counts as last added, so each interval adds what is new. */
  readonly #checksAdded = new Map<string, { passes: number; fails: number }>();
  readonly #events: Counter;
  readonly #system: SystemInstruments;
  readonly #lastKinds = new Set<string>();
  #stopped = false;
  #saidStalled = false;

  /** `exporter` defaults to the OTLP exporter the config asks for (tests pass their own). */
  constructor(
    run: RunInfo,
    config: OtelConfig,
    exporter: PushMetricExporter = createOtlpExporter(config),
  ) {
    this.#config = config;
    this.output.stopTimeoutMs = config.timeoutMs + STOP_MARGIN_MS;
    const resource = runResource(run, config);
    const temporality = exporter.selectAggregationTemporality?.(InstrumentType.HISTOGRAM) ??
      AggregationTemporality.CUMULATIVE;
    this.#requests = new RequestMetrics({
      histogram: config.histogram,
      boundariesS: config.boundariesS,
      temporality,
      resource,
      scope: { name: SCOPE_NAME, version: run.version },
    });
    this.#reader = this.#createReader(exporter, config);
    this.#provider = new MeterProvider({ resource, readers: [this.#reader] });
    const instruments = createRunInstruments(this.#provider.getMeter(SCOPE_NAME, run.version));
    this.#users = instruments.users;
    this.#workers = instruments.workers;
    this.#thresholdOk = instruments.thresholdOk;
    this.#checks = instruments.checks;
    this.#iterations = instruments.iterations;
    this.#dropped = instruments.dropped;
    this.#targetRate = instruments.targetRate;
    this.#retries = instruments.retries;
    this.#events = instruments.events;
    this.#system = instruments.system;
  }

  /** The reader that exports every interval, saying the first failure and a stalled export once. */
  #createReader(exporter: PushMetricExporter, config: OtelConfig): IntervalExportingReader {
    const log = getLogger(["stampede", "recorders", "otel"]);
    return new IntervalExportingReader({
      exporter,
      intervalMs: config.intervalMs,
      metricProducers: [this.#requests],
      // Said once each: later failures are counted and listed in the summary's problems.
      onFailure: (error, stats) => {
        if (stats.failures !== 1) return;
        log.warn(
          "Cannot export metrics to {url}: {error}; later failures are counted, not repeated, and the run goes on",
          { url: JSON.stringify(redactUrls(config.url)), error: redactUrls(error) },
        );
      },
      onStalled: (runningMs) => {
        if (this.#saidStalled) return;
        this.#saidStalled = true;
        log.warn(
          "Metrics export to {url} has not finished after {seconds} s: the collector is down or slow; the exporter retries until its {timeoutMs} ms timeout and the run goes on",
          {
            url: JSON.stringify(redactUrls(config.url)),
            seconds: (runningMs / 1000).toFixed(1),
            timeoutMs: config.timeoutMs,
          },
        );
      },
    });
  }

  /** How exports went so far. */
  get exportStats(): { attempts: number; failures: number; lastError: string | null } {
    return { ...this.#reader.stats };
  }

  #recordUsers(usersByKind: Record<string, number>): void {
    for (const [kind, users] of Object.entries(usersByKind)) {
      this.#users.record(users, { kind });
      this.#lastKinds.add(kind);
    }
  }

  #recordChecks(checks: readonly CheckResult[]): void {
    for (const c of checks) {
      const added = this.#checksAdded.get(c.name) ?? { passes: 0, fails: 0 };
      if (c.passes > added.passes) {
        this.#checks.add(c.passes - added.passes, { check: c.name, result: "pass" });
      }
      if (c.fails > added.fails) {
        this.#checks.add(c.fails - added.fails, { check: c.name, result: "fail" });
      }
      this.#checksAdded.set(c.name, { passes: c.passes, fails: c.fails });
    }
  }

  #recordIterations(iterations: readonly IterationCounts[]): void {
    for (const c of iterations) {
      const added = this.#iterationsAdded.get(c.kind) ?? { started: 0, dropped: 0 };
      if (c.started > added.started) {
        this.#iterations.add(c.started - added.started, { kind: c.kind });
      }
      if (c.dropped > added.dropped) this.#dropped.add(c.dropped - added.dropped, { kind: c.kind });
      this.#iterationsAdded.set(c.kind, { started: c.started, dropped: c.dropped });
    }
  }

  #recordRetries(total: number): void {
    if (total > this.#retriesAdded) this.#retries.add(total - this.#retriesAdded);
    this.#retriesAdded = total;
  }

  readonly request = {
    interval: (snapshot: IntervalSnapshot): void => {
      this.#requests.add(snapshot.cells);
      this.#recordChecks(snapshot.checks);
      this.#recordIterations(snapshot.iterations);
      this.#recordRetries(snapshot.cumulative.total.retries);
      for (const [kind, rate] of Object.entries(snapshot.targetRates)) {
        this.#targetRate.record(rate, { kind });
      }
      this.#recordUsers(snapshot.usersByKind);
      this.#workers.record(snapshot.workers);
    },
    final: (snapshot: FinalSnapshot): void => {
      this.#requests.add(snapshot.cells);
      this.#recordChecks(snapshot.checks);
      this.#recordIterations(snapshot.iterations);
      this.#recordRetries(snapshot.cumulative.total.retries);
      for (const t of snapshot.thresholds) {
        this.#thresholdOk.record(t.ok ? 1 : 0, { metric: t.metric, expression: t.expression });
      }
    },
  };

  readonly lifecycle = {
    event: (event: LifecycleEvent): void => {
      this.#events.add(1, { event: event.name, source: event.source });
    },
  };

  readonly system = {
    samples: (samples: SystemSample[]): void => {
      for (const s of samples) {
        const source = { source: s.source };
        if (s.cpuPercent !== undefined) this.#system.cpu.record(s.cpuPercent / 100, source);
        if (s.rssBytes !== undefined) this.#system.memory.record(s.rssBytes, source);
        if (s.heapUsedBytes !== undefined) this.#system.heap.record(s.heapUsedBytes, source);
        if (s.eventLoopLagP99Ms !== undefined) {
          this.#system.lag.record(s.eventLoopLagP99Ms / 1000, source);
        }
        if (s.networkSentBytes !== undefined && s.networkSentBytes >= 0) {
          this.#system.network.add(s.networkSentBytes, {
            ...source,
            "network.io.direction": "transmit",
          });
        }
        if (s.networkReceivedBytes !== undefined && s.networkReceivedBytes >= 0) {
          this.#system.network.add(s.networkReceivedBytes, {
            ...source,
            "network.io.direction": "receive",
          });
        }
      }
    },
  };

  readonly output = {
    /** The last export gets the whole OTLP timeout; the run's exit waits for it (set below). */
    stopTimeoutMs: 0,
    stop: async (_reason: StopReason): Promise<void> => {
      if (this.#stopped) return;
      this.#stopped = true;
      // The run is over: nothing runs any more, whatever the last interval said.
      for (const kind of this.#lastKinds) this.#users.record(0, { kind });
      this.#workers.record(0);
      await this.#reader.finish(this.#config.timeoutMs);
      await this.#provider.shutdown().catch(() => {});
    },
  };

  problems(): string[] {
    const { attempts, failures, lastError } = this.#reader.stats;
    if (failures === 0) return [];
    return [
      `${failures} of ${attempts} metric exports to "${
        redactUrls(this.#config.url)
      }" failed (last: ${redactUrls(lastError ?? "")})`,
    ];
  }
}

/** Creates the otel recorder from the run, the plugin's options and the environment. */
export function createOtelRecorder(
  context: RecorderContext,
  env: EnvReader = (name) => Deno.env.get(name),
): OtelRecorder {
  return new OtelRecorder(context.run, resolveOtelConfig(context.options, env));
}

/** The `otel` recorder plugin. */
export const otelRecorder: RecorderPlugin = {
  id: "otel",
  description: "metrics over OTLP/HTTP (protobuf or JSON) to an OpenTelemetry Collector",
  options: [
    {
      flags: "--otel-endpoint <url>",
      description:
        "OTLP/HTTP endpoint; /v1/metrics is added unless given (default: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318)",
      env: "STAMPEDE_OTEL_ENDPOINT",
    },
    {
      flags: "--otel-protocol <protocol>",
      description:
        "http/protobuf or http/json (default: OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf)",
      env: "STAMPEDE_OTEL_PROTOCOL",
    },
    {
      flags: "--otel-interval <duration>",
      description: "time between exports (default: OTEL_METRIC_EXPORT_INTERVAL ms, else 10s)",
      env: "STAMPEDE_OTEL_INTERVAL",
    },
    {
      flags: "--otel-histogram <kind>",
      description: "request duration histogram: explicit or exponential (default explicit)",
      env: "STAMPEDE_OTEL_HISTOGRAM",
    },
    {
      flags: "--otel-buckets <seconds>",
      description:
        "explicit bucket bounds in seconds, comma-separated (default 0.005,0.01,...,7.5,10)",
      env: "STAMPEDE_OTEL_BUCKETS",
    },
  ],
  create: (context: RecorderContext) => createOtelRecorder(context),
};
