// A load worker's span sink (`--traces`): the OTel trace SDK's batch span processor and OTLP
// exporter (protobuf or JSON over HTTP), fed the spans core/http/tracing.ts made. It runs where
// the requests were made, on each load worker, so spans never cross a thread; the sampler of
// each new trace is the SDK's. A collector that is down is said once and loses spans, never
// the run.
import {
  ROOT_CONTEXT,
  SpanKind,
  type SpanStatus,
  SpanStatusCode,
  TraceFlags,
} from "npm:@opentelemetry/api@1.10.0";
import {
  type ExportResult,
  ExportResultCode,
  hrTimeDuration,
  type InstrumentationScope,
  millisToHrTime,
  TraceState,
} from "npm:@opentelemetry/core@3.1.0";
import { OTLPTraceExporter as OtlpJsonTraceExporter } from "npm:@opentelemetry/exporter-trace-otlp-http@0.301.0";
import { OTLPTraceExporter as OtlpProtoTraceExporter } from "npm:@opentelemetry/exporter-trace-otlp-proto@0.301.0";
import type { Resource } from "npm:@opentelemetry/resources@3.1.0";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  SamplingDecision,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from "npm:@opentelemetry/sdk-trace@3.1.0";
import type { FinishedSpan, SinkTraceId, SpanSink } from "../../core/span_sink.ts";
import { redactUrls } from "../../core/redact.ts";
import type { RunInfo } from "../../core/run_info.ts";
import { describeExportError } from "./reader.ts";
import { runResource } from "./resource.ts";
import type { TraceConfig, TraceSamplerConfig } from "./trace_config.ts";

/** The SDK sampler `OTEL_TRACES_SAMPLER` (or `--trace-sample-ratio`) names. */
export function createSampler(config: TraceSamplerConfig): Sampler {
  const root = config.name.endsWith("traceidratio")
    ? new TraceIdRatioBasedSampler(config.ratio)
    : config.name.endsWith("always_off")
    ? new AlwaysOffSampler()
    : new AlwaysOnSampler();
  return config.name.startsWith("parentbased_") ? new ParentBasedSampler({ root }) : root;
}

/**
 * The bound under which the SDK's `TraceIdRatioBased` sampler keeps a trace (it keeps a trace
 * when the XOR of its id's four 32-bit words is below it), or null for a sampler that does not
 * decide by ratio. Every trace Stampede starts is a root (no parent), so the `parentbased_`
 * samplers decide as their root sampler does.
 */
export function ratioBound(config: TraceSamplerConfig): number | null {
  if (!config.name.endsWith("traceidratio")) return null;
  const ratio = Number.isNaN(config.ratio) ? 0 : Math.min(1, Math.max(0, config.ratio));
  return ratio === 1 ? 2 ** 32 : Math.floor(ratio * 0xffffffff);
}

/** A finished Stampede span as the SDK's exporters read spans. */
class ExportedSpan implements ReadableSpan {
  readonly name: string;
  readonly kind: SpanKind;
  readonly parentSpanContext;
  readonly startTime;
  readonly endTime;
  readonly duration;
  readonly status: SpanStatus;
  readonly attributes;
  readonly links = [];
  readonly events = [];
  readonly ended = true;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  readonly #span: FinishedSpan;
  readonly #traceState: TraceState | undefined;

  constructor(
    span: FinishedSpan,
    readonly resource: Resource,
    readonly instrumentationScope: InstrumentationScope,
  ) {
    this.#span = span;
    this.name = span.name;
    this.kind = span.kind === "client" ? SpanKind.CLIENT : SpanKind.INTERNAL;
    this.#traceState = span.tracestate === null ? undefined : new TraceState(span.tracestate);
    this.parentSpanContext = span.parentSpanId === null ? undefined : {
      traceId: span.traceId,
      spanId: span.parentSpanId,
      traceFlags: TraceFlags.SAMPLED,
      traceState: this.#traceState,
    };
    this.startTime = millisToHrTime(performance.timeOrigin + span.startMs);
    this.endTime = millisToHrTime(performance.timeOrigin + Math.max(span.startMs, span.endMs));
    this.duration = hrTimeDuration(this.startTime, this.endTime);
    this.status = span.error === null
      ? { code: SpanStatusCode.UNSET }
      : { code: SpanStatusCode.ERROR, message: span.error };
    this.attributes = span.attributes;
  }

  spanContext() {
    const span = this.#span;
    return {
      traceId: span.traceId,
      spanId: span.spanId,
      traceFlags: TraceFlags.SAMPLED,
      traceState: this.#traceState,
    };
  }
}

/** Spans handed on and how their exports went. */
export interface SpanExportStats {
  /** Spans given to the exporter that it exported. */
  exported: number;
  /** Spans in exports that failed. */
  failed: number;
  /** Exports that failed. */
  failures: number;
}

/** An exporter that counts what it exports and says its first failure. */
class CountingExporter implements SpanExporter {
  readonly stats: SpanExportStats = { exported: 0, failed: 0, failures: 0 };

  constructor(readonly inner: SpanExporter, readonly onFirstFailure: (error: string) => void) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const settle = (result: ExportResult) => {
      if (result.code === ExportResultCode.SUCCESS) this.stats.exported += spans.length;
      else {
        this.stats.failed += spans.length;
        if (++this.stats.failures === 1) this.onFirstFailure(describeExportError(result.error));
      }
      done(result);
    };
    try {
      this.inner.export(spans, settle);
    } catch (error) {
      settle({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/** The OTLP span exporter for the configured protocol, URL, headers and timeout. */
export function createOtlpSpanExporter(config: TraceConfig): SpanExporter {
  const options = { url: config.url, headers: config.headers, timeoutMillis: config.timeoutMs };
  return config.protocol === "http/json"
    ? new OtlpJsonTraceExporter(options)
    : new OtlpProtoTraceExporter(options);
}

/** The span sink of one load worker: batched OTLP export of its sampled spans. */
export class OtlpSpanSink implements SpanSink {
  readonly #config: TraceConfig;
  readonly #sampler: Sampler;
  /** See {@link ratioBound}: the ratio samplers' decision without the hex id (a test checks). */
  readonly #bound: number | null;
  readonly #resource: Resource;
  readonly #scope: InstrumentationScope;
  readonly #exporter: CountingExporter;
  readonly #processor: BatchSpanProcessor;
  readonly #warn: (message: string) => void;
  #added = 0;
  #closed = false;

  constructor(
    config: TraceConfig,
    run: RunInfo,
    warn: (message: string) => void,
    exporter: SpanExporter = createOtlpSpanExporter(config),
  ) {
    this.#config = config;
    this.#warn = warn;
    this.#sampler = createSampler(config.sampler);
    this.#bound = ratioBound(config.sampler);
    this.#resource = runResource(run, config);
    this.#scope = { name: "stampede", version: run.version };
    const url = JSON.stringify(redactUrls(config.url));
    this.#exporter = new CountingExporter(exporter, (error) =>
      warn(
        `Cannot export spans to ${url}: ${
          redactUrls(error)
        }; later failures are counted, not repeated, and the run goes on`,
      ));
    this.#processor = new BatchSpanProcessor({
      exporter: this.#exporter,
      maxQueueSize: config.batch.maxQueueSize,
      maxExportBatchSize: config.batch.maxExportBatchSize,
      scheduledDelayMillis: config.batch.scheduledDelayMs,
      exportTimeoutMillis: config.batch.exportTimeoutMs,
    });
  }

  sampled(traceId: SinkTraceId, name: string): boolean {
    const bound = this.#bound;
    if (bound !== null) {
      return ((traceId.w0 ^ traceId.w1 ^ traceId.w2 ^ traceId.w3) >>> 0) < bound;
    }
    const result = this.#sampler.shouldSample(
      ROOT_CONTEXT,
      traceId.hex,
      name,
      SpanKind.INTERNAL,
      {},
      [],
    );
    return result.decision === SamplingDecision.RECORD_AND_SAMPLED;
  }

  add(span: FinishedSpan): void {
    if (this.#closed) return;
    this.#added++;
    this.#processor.onEnd(new ExportedSpan(span, this.#resource, this.#scope));
  }

  /** How exports went so far, and spans handed in. */
  get stats(): SpanExportStats & { added: number } {
    return { ...this.#exporter.stats, added: this.#added };
  }

  async close(budgetMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => timer = setTimeout(resolve, budgetMs));
    await Promise.race([this.#processor.shutdown().catch(() => {}), late]);
    clearTimeout(timer);
    const { exported } = this.#exporter.stats;
    const lost = this.#added - exported;
    if (lost > 0) {
      this.#warn(
        `${lost} of ${this.#added} spans were not exported to ${
          JSON.stringify(redactUrls(this.#config.url))
        } (the collector failed or was slow, or the export queue of ${this.#config.batch.maxQueueSize} was full)`,
      );
    }
  }
}

/** Makes a load worker's span sink (see core/http/tracing.ts, `CreateSpanSink`). */
export function createSpanSink(
  options: unknown,
  run: RunInfo,
  warn: (message: string) => void,
): SpanSink {
  return new OtlpSpanSink(options as TraceConfig, run, warn);
}
