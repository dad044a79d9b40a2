// The fetch engine: each exchange is one call of Deno's fetch with redirects left to the client.
import {
  type EngineRequest,
  type EngineResponse,
  type ExchangeEnd,
  type HttpEngine,
  type HttpSession,
  IDEMPOTENT_METHODS,
} from "./engine.ts";
import { failureOf } from "./failures.ts";

const EMPTY = new Uint8Array(0);

/** Said the first time a request of another method goes through fetch. */
export const RESEND_WARNING =
  "fetch engine: Deno's fetch may send a request again, POST included, when a server closes a " +
  "reused connection, and says nothing (the target can get it twice, the stats count it once); " +
  "the h1 engine never sends a POST twice";

/** Flattens a Headers object into the engines' `[name, value, ...]` form. */
function rawHeadersOf(headers: Headers): string[] {
  const raw: string[] = [];
  for (const [name, value] of headers) raw.push(name, value);
  return raw;
}

/** A traced request's headers with its trace context (see EngineRequest.trace). */
function withTrace(request: EngineRequest): Record<string, string> {
  const { traceparent, tracestate } = request.trace!;
  const headers: Record<string, string> = { ...request.headers, traceparent };
  if (tracestate !== null) headers.tracestate = tracestate;
  return headers;
}

/** Counts a body stream to its end without keeping it. */
async function countBody(body: ReadableStream<Uint8Array> | null): Promise<number> {
  if (!body) return 0;
  let bytes = 0;
  for await (const chunk of body) bytes += chunk.length;
  return bytes;
}

/**
 * The `fetch` engine: Deno's fetch, one exchange per call (redirects are the client's, so
 * cookies set on a redirect are sent on the next hop). Deno pools its connections itself: the
 * users of a worker share its pool. (A pool of each user's own, `Deno.createHttpClient`, costs
 * about 100 KB a user before its first request, the client's root certificates: 10 000 idle
 * users took 1.6 GB instead of 0.2 GB.)
 */
export function createFetchEngine(warn: (message: string) => void = () => {}): HttpEngine {
  let warned = false;
  return {
    name: "fetch",
    supports: () => true,
    createSession(signal: AbortSignal): HttpSession {
      // One controller and one timer per request, aborted by the timeout or by the user's stop.
      // (AbortSignal.any over AbortSignal.timeout cost about a third of the throughput: each
      // builds weakly held dependent signals that the GC then has to chase.)
      const inFlight = new Set<AbortController>();
      const onStop = () => {
        for (const controller of inFlight) controller.abort(signal.reason);
      };
      signal.addEventListener("abort", onStop, { once: true });
      return {
        async send<T, R extends EngineRequest>(request: R, end: ExchangeEnd<T, R>): Promise<T> {
          let response: EngineResponse;
          try {
            response = await exchange(request);
          } catch (error) {
            return end.failed(request, error);
          }
          return end.answered(request, response);
        },
        close() {
          signal.removeEventListener("abort", onStop);
        },
      };

      async function exchange(request: EngineRequest): Promise<EngineResponse> {
        if (!warned && !IDEMPOTENT_METHODS.has(request.method)) {
          warned = true;
          warn(RESEND_WARNING);
        }
        const timeoutMs = Math.max(0, request.deadlineMs - performance.now());
        const controller = new AbortController();
        if (signal.aborted) controller.abort(signal.reason);
        const timer = setTimeout(
          () => controller.abort(new DOMException("The request timed out", "TimeoutError")),
          timeoutMs,
        );
        inFlight.add(controller);
        try {
          const res = await fetch(request.url, {
            method: request.method,
            headers: request.trace === null ? request.headers : withTrace(request),
            body: request.body as BodyInit | null,
            redirect: "manual",
            signal: controller.signal,
          });
          let kept: Uint8Array | null = null;
          let bodyBytes: number;
          if (request.method === "HEAD") {
            await res.body?.cancel();
            kept = request.keepBody ? EMPTY : null;
            bodyBytes = 0;
          } else if (request.keepBody) {
            kept = await res.bytes();
            bodyBytes = kept.length;
          } else {
            bodyBytes = await countBody(res.body);
          }
          const rawHeaders = rawHeadersOf(res.headers);
          return {
            status: res.status,
            statusText: res.statusText,
            rawHeaders,
            setsCookies: rawHeaders.includes("set-cookie"),
            bodyBytes,
            body: () => kept,
          };
        } catch (error) {
          if (signal.aborted) throw signal.reason ?? error;
          throw failureOf(error, request.timeoutMs);
        } finally {
          clearTimeout(timer);
          inFlight.delete(controller);
        }
      }
    },
  };
}
