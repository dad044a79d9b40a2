// The contract between the traced requests of a load worker (core/http/tracing.ts) and where
// their sampled spans go (recorders/otel/span_sink.ts, loaded by URL): plain data and a small
// interface, so core/ knows no OpenTelemetry and the sink knows no HTTP client.
import type { RunInfo } from "./run_info.ts";

/** Span attribute values. */
export type SpanAttributes = Record<string, string | number | boolean>;

/** A span Stampede made, finished and sampled: what a span sink exports. Plain data. */
export interface FinishedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** The parent's span id (a request's iteration); null for a root. */
  readonly parentSpanId: string | null;
  readonly name: string;
  /** `client` for one HTTP exchange, `internal` for an iteration. */
  readonly kind: "client" | "internal";
  /** `performance.now()` times, in ms. */
  readonly startMs: number;
  readonly endMs: number;
  readonly attributes: SpanAttributes;
  /** Why it failed (the span's status is then an error with this text); null when it did not. */
  readonly error: string | null;
  /** The trace's `tracestate`, or null. */
  readonly tracestate: string | null;
}

/**
 * A new trace's id as a sampler is given it: the hex string (made when read) and the same 16
 * bytes as four 32-bit words in the hex string's order, for samplers that decide from the bits.
 */
export interface SinkTraceId {
  readonly hex: string;
  readonly w0: number;
  readonly w1: number;
  readonly w2: number;
  readonly w3: number;
}

/** Where a load worker's sampled spans go. */
export interface SpanSink {
  /** Whether a new trace, started by the root span `name`, is sampled (the run's sampler). */
  sampled(traceId: SinkTraceId, name: string): boolean;
  /** Takes a finished sampled span and returns at once: spans are exported in batches. */
  add(span: FinishedSpan): void;
  /** Exports what is left within `budgetMs`, then stops. Never throws. */
  close(budgetMs: number): Promise<void>;
}

/** The module a {@link TraceSettings.sinkUrl} names exports this. */
export type CreateSpanSink = (
  options: unknown,
  run: RunInfo,
  warn: (message: string) => void,
) => SpanSink | Promise<SpanSink>;

/** How a run's traces are made: resolved once by run.ts, plain data for every load worker. */
export interface TraceSettings {
  /** URL of the module whose `createSpanSink` makes a worker's span sink. */
  sinkUrl: string;
  /** That sink's own settings (exporter, sampler, batching): opaque here. */
  sinkOptions: unknown;
  /** Sent as `tracestate` with every traced request; null for none. */
  tracestate: string | null;
}
