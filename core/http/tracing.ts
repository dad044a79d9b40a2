// Traces of a load worker's requests (`--traces`): an iteration of a task is a root span, each
// HTTP exchange (each hop of a redirect chain) a client span under it, and every hop carries its
// W3C `traceparent`. Whether a trace is sampled is decided once, for the iteration; its requests
// follow. Sampled spans go to a span sink (recorders/otel/span_sink.ts: OTLP), loaded by URL so
// core/ knows no OpenTelemetry. Nothing here runs when traces are off.
import type { RunInfo } from "../run_info.ts";
import type { CreateSpanSink, SpanAttributes, SpanSink, TraceSettings } from "../span_sink.ts";
import { RandomIds, spanHex, TraceContext, type TraceId, TraceState } from "./trace_context.ts";

export type { FinishedSpan, SpanSink, TraceSettings } from "../span_sink.ts";

/** A user's HTTP client as a tracer sees it: the iteration its requests belong to. */
export interface TracedClient {
  iteration: IterationSpan | null;
}

/** One iteration of a task: the root span of its requests. */
export class IterationSpan {
  readonly traceId: TraceId;
  /** Its span id; "" when not sampled (nothing reads it then). */
  readonly spanId: string;
  readonly sampled: boolean;
  /** When it started (`performance.now()` time); 0 when not sampled: nothing reads it then. */
  readonly startMs: number;
  #error: string | null = null;

  constructor(
    readonly tracer: RequestTracer,
    readonly client: TracedClient,
    readonly kind: string,
    readonly task: string,
    readonly userIndex: number,
  ) {
    this.traceId = tracer.ids.traceId();
    // The task's name stands for the span's: no string is built for a trace that is not kept.
    this.sampled = tracer.sink.sampled(this.traceId, task);
    this.spanId = this.sampled ? tracer.ids.spanId() : "";
    this.startMs = this.sampled ? performance.now() : 0;
  }

  /** The span's name: the user kind and the task. */
  get name(): string {
    return `${this.kind} ${this.task}`;
  }

  /** Marks the iteration failed: the task threw. */
  fail(error: string): void {
    this.#error = error;
  }

  /** Ends the iteration: its client's later requests belong to none. */
  end(): void {
    if (this.client.iteration === this) this.client.iteration = null;
    if (!this.sampled) return;
    const tracer = this.tracer;
    tracer.sink.add({
      traceId: this.traceId.hex,
      spanId: this.spanId,
      parentSpanId: null,
      name: this.name,
      kind: "internal",
      startMs: this.startMs,
      endMs: performance.now(),
      attributes: {
        "stampede.run_id": tracer.runId,
        "stampede.user.kind": this.kind,
        "stampede.user.index": this.userIndex,
        "stampede.task": this.task,
      },
      error: this.#error,
      tracestate: tracer.tracestate,
    });
  }
}

/** A sampled hop's span while the exchange runs. */
export class HopSpan {
  constructor(
    readonly traceId: string,
    readonly spanId: string,
    readonly parent: IterationSpan | null,
    /** The stats name of the request. */
    readonly name: string,
    readonly method: string,
    readonly url: URL,
    readonly startMs: number,
    /** 0 for the first hop, n for the n-th redirect followed. */
    readonly resendCount: number,
  ) {}
}

/** A load worker's tracer: ids, the sink of its sampled spans, the run's `tracestate`. */
export class RequestTracer {
  readonly ids = new RandomIds();
  readonly #state: TraceState | null;
  /** Where a hop's span id is drawn (no object per hop). */
  readonly #span = { spanHi: 0, spanLo: 0 };

  constructor(
    readonly sink: SpanSink,
    readonly tracestate: string | null,
    readonly runId: string,
  ) {
    this.#state = tracestate === null ? null : new TraceState(tracestate);
  }

  /** Starts an iteration of `task` whose requests `client` makes. */
  begin(client: object, user: { kind: string; index: number }, task: string): IterationSpan {
    const traced = client as TracedClient;
    const iteration = new IterationSpan(this, traced, user.kind, task, user.index);
    traced.iteration = iteration;
    return iteration;
  }

  /**
   * Starts one hop of a request: returns the trace context to send, and sets `hop` to its span
   * when the trace is sampled (else null). A request outside an iteration (in `onStart`) is a
   * trace of its own.
   */
  startHop(
    iteration: IterationSpan | null,
    out: { hop: HopSpan | null },
    name: string,
    method: string,
    url: URL,
    startMs: number,
    resendCount: number,
  ): TraceContext {
    let traceId: TraceId;
    let sampled: boolean;
    if (iteration !== null) {
      traceId = iteration.traceId;
      sampled = iteration.sampled;
    } else {
      traceId = this.ids.traceId();
      sampled = this.sink.sampled(traceId, name);
    }
    const span = this.#span;
    this.ids.spanWords(span);
    const context = new TraceContext(traceId, span.spanHi, span.spanLo, sampled, this.#state);
    out.hop = sampled
      ? new HopSpan(
        traceId.hex,
        spanHex(span.spanHi, span.spanLo),
        iteration,
        name,
        method,
        url,
        startMs,
        resendCount,
      )
      : null;
    return context;
  }
}

/**
 * Loads the span sink `settings` names and makes the worker's tracer; `warn` says things once
 * (an export that fails, spans lost at the stop).
 */
export async function startTracer(
  settings: TraceSettings,
  run: RunInfo,
  warn: (message: string) => void,
): Promise<RequestTracer> {
  const module = await import(settings.sinkUrl) as { createSpanSink?: CreateSpanSink };
  if (typeof module.createSpanSink !== "function") {
    throw new TypeError(`Cannot trace requests: ${settings.sinkUrl} exports no createSpanSink`);
  }
  const sink = await module.createSpanSink(settings.sinkOptions, run, warn);
  return new RequestTracer(sink, settings.tracestate, run.runId);
}

/** Methods the HTTP semantic conventions know by name; others are `_OTHER`. */
const KNOWN_METHODS = new Set([
  "CONNECT",
  "DELETE",
  "GET",
  "HEAD",
  "OPTIONS",
  "PATCH",
  "POST",
  "PUT",
  "QUERY",
  "TRACE",
]);

/**
 * `error.type` of a failed hop, low in cardinality as the semantic conventions ask: the status
 * for a status >= 400, `check` for a check that failed a response, else the failure's kind
 * (`Timeout`, `ConnectionRefused`, ...).
 */
export function errorType(status: number, error: string): string {
  if (status >= 400) return String(status);
  if (status > 0) return "check";
  return /^([A-Za-z][A-Za-z0-9]*):/.exec(error)?.[1] ?? "_OTHER";
}

/** `url.full` without credentials (the semantic conventions' REDACTED). */
function fullUrl(url: URL): string {
  if (url.username === "" && url.password === "") return url.href;
  const copy = new URL(url.href);
  copy.username = "REDACTED";
  if (copy.password !== "") copy.password = "REDACTED";
  return copy.href;
}

/**
 * Ends a sampled hop: its client span, with the HTTP client attributes of the semantic
 * conventions and Stampede's own, goes to the sink. `status` 0: no response.
 */
export function endHop(
  tracer: RequestTracer,
  hop: HopSpan,
  status: number,
  error: string | null,
  endMs: number,
): void {
  const { url, method, parent } = hop;
  const known = KNOWN_METHODS.has(method);
  const hostname = url.hostname;
  const attributes: SpanAttributes = {
    "http.request.method": known ? method : "_OTHER",
    "url.full": fullUrl(url),
    "server.address": hostname.startsWith("[") ? hostname.slice(1, -1) : hostname,
    "server.port": url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80,
    "stampede.request.name": hop.name,
  };
  if (!known) attributes["http.request.method_original"] = method;
  if (status > 0) attributes["http.response.status_code"] = status;
  if (error !== null) attributes["error.type"] = errorType(status, error);
  if (hop.resendCount > 0) attributes["http.request.resend_count"] = hop.resendCount;
  if (parent !== null) {
    attributes["stampede.user.kind"] = parent.kind;
    attributes["stampede.task"] = parent.task;
  }
  tracer.sink.add({
    traceId: hop.traceId,
    spanId: hop.spanId,
    parentSpanId: parent?.spanId ?? null,
    name: `${method} ${hop.name}`,
    kind: "client",
    startMs: hop.startMs,
    endMs,
    attributes,
    error,
    tracestate: tracer.tracestate,
  });
}
