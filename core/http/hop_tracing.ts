// The client's side of traces (`--traces`): a hop gets its `traceparent`, a redirected hop's span
// ends where the next one starts, and the final hop's span ends with the request's outcome and
// becomes an exemplar of its stats cell. Called only when the worker has a tracer.
import type { ClientRequest } from "./prepare.ts";
import { endHop, type IterationSpan, type RequestTracer } from "./tracing.ts";

/** The failure text on the span of a request cut off by the stop. */
const ABORTED_TEXT = "RunStopped: cut off by the stop";

/**
 * Starts the hop's span and gives the hop its `traceparent` (and `tracestate`): the engine adds
 * them to the request's headers (h1 splices them into the head it keeps for the method and URL).
 */
export function traceHop(
  tracer: RequestTracer,
  iteration: IterationSpan | null,
  request: ClientRequest,
  name: string,
  startMs: number,
  resendCount: number,
): void {
  request.trace = tracer.startHop(
    iteration,
    request,
    name,
    request.method,
    request.url,
    startMs,
    resendCount,
  );
}

/** Ends a hop that redirected; returns when, the start of the next hop. */
export function endRedirectHop(
  tracer: RequestTracer,
  request: ClientRequest,
  status: number,
): number {
  const nowMs = performance.now();
  if (request.hop !== null) endHop(tracer, request.hop, status, null, nowMs);
  return nowMs;
}

/** Ends the final hop's span and keeps the request as an exemplar of its stats cell. */
export function endTracedRequest(
  tracer: RequestTracer,
  request: ClientRequest,
  status: number,
  error: string | null,
  latencyUs: number,
  endMs: number,
): void {
  const hop = request.hop!;
  endHop(tracer, hop, status, error, endMs);
  request.endpoint.exemplar?.(
    status,
    error !== null,
    latencyUs,
    hop.traceId,
    hop.spanId,
    performance.timeOrigin + endMs,
  );
}

/** Ends the span of a hop cut off by the stop. */
export function endAbortedHop(tracer: RequestTracer, request: ClientRequest, endMs: number): void {
  if (request.hop !== null) endHop(tracer, request.hop, 0, ABORTED_TEXT, endMs);
}
