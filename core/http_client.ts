import type { RequestStats } from "./request_stats.ts";
import { describeError } from "./errors.ts";
import { VERSION } from "./version.ts";

/** Options of one request made through `ctx.http`. */
export interface RequestOptions {
  /** Stats grouping name (default: the URL as written), e.g. `"/item/:id"`. */
  name?: string;
  headers?: Record<string, string>;
  /** Sent as a JSON body with `content-type: application/json`. */
  json?: unknown;
  /** A raw body. */
  body?: BodyInit;
  /** Query parameters appended to the URL. */
  query?: Record<string, string | number | boolean>;
  /** Fails the request with a timeout after this many milliseconds (default 60 000). */
  timeoutMs?: number;
}

/** A response as tasks see it; the body was read in full before the latency was taken. */
export interface HttpResponse {
  /** HTTP status; 0 when there was no response (network error, timeout). */
  readonly status: number;
  readonly statusText: string;
  /** Whether the request counted as a success. */
  readonly ok: boolean;
  /** Why the request failed (`HTTP 500`, `ConnectionRefused: ...`), or null. */
  readonly error: string | null;
  readonly headers: Headers;
  /** Final URL after redirects. */
  readonly url: string;
  /** Time from sending to the last body byte, in milliseconds. */
  readonly durationMs: number;
  bytes(): Promise<Uint8Array>;
  text(): Promise<string>;
  json<T = unknown>(): Promise<T>;
}

/** The HTTP client of one virtual user. */
export interface HttpClient {
  get(url: string, options?: RequestOptions): Promise<HttpResponse>;
  head(url: string, options?: RequestOptions): Promise<HttpResponse>;
  delete(url: string, options?: RequestOptions): Promise<HttpResponse>;
  post(url: string, options?: RequestOptions): Promise<HttpResponse>;
  put(url: string, options?: RequestOptions): Promise<HttpResponse>;
  patch(url: string, options?: RequestOptions): Promise<HttpResponse>;
  request(method: string, url: string, options?: RequestOptions): Promise<HttpResponse>;
}

/** Thrown out of a request or a sleep when the run stops; ends the task, is not a failure. */
export class RunStopped extends Error {
  constructor() {
    super("the run stopped");
    this.name = "RunStopped";
  }
}

/** Defaults shared by every user of a load worker. */
export interface HttpDefaults {
  host: string;
  timeoutMs: number;
  headers: Record<string, string>;
}

/** Request timeout when neither the request nor the plan sets one. */
export const DEFAULT_TIMEOUT_MS = 60_000;
const EMPTY = new Uint8Array(0);
const decoder = new TextDecoder();

/** Resolves request URLs against the host, caching the common case of repeated paths. */
class UrlResolver {
  readonly #cache = new Map<string, string>();
  constructor(readonly host: string) {}

  resolve(url: string): string {
    let resolved = this.#cache.get(url);
    if (resolved === undefined) {
      resolved = /^https?:\/\//i.test(url)
        ? url
        : url.startsWith("/")
        ? this.host + url
        : new URL(url, this.host + "/").href;
      if (this.#cache.size < 10_000) this.#cache.set(url, resolved);
    }
    return resolved;
  }
}

/** Short text of a failed fetch, without the URL, so failures group well. */
export function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return `Timeout: no response within ${timeoutMs} ms`;
  }
  let text = describeError(error);
  // Deno's fetch says "fetch failed" and keeps what happened in the cause chain.
  for (let cause = (error as Error)?.cause, depth = 0; cause && depth < 4; depth++) {
    text += ` (${describeError(cause)})`;
    cause = (cause as Error).cause;
  }
  if (/connection refused/i.test(text)) return "ConnectionRefused: connection refused";
  if (/connection reset|reset by peer/i.test(text)) return "ConnectionReset: connection reset";
  if (/dns error|failed to lookup|name or service not known/i.test(text)) {
    return "DnsError: cannot resolve host";
  }
  if (
    /connection closed before message completed|unexpected eof|incomplete message|error reading a body/i
      .test(text)
  ) {
    return "ConnectionClosed: connection closed before the response completed";
  }
  return text.replace(/ for url \([^)]*\)/, "").replace(/https?:\/\/\S+/g, "<url>");
}

class FetchResponse implements HttpResponse {
  constructor(
    readonly status: number,
    readonly statusText: string,
    readonly error: string | null,
    readonly headers: Headers,
    readonly url: string,
    readonly durationMs: number,
    readonly body: Uint8Array,
  ) {}
  get ok(): boolean {
    return this.error === null;
  }
  bytes(): Promise<Uint8Array> {
    return Promise.resolve(this.body);
  }
  text(): Promise<string> {
    return Promise.resolve(decoder.decode(this.body));
  }
  json<T>(): Promise<T> {
    return this.text().then((t) => JSON.parse(t) as T);
  }
}

/** Creates the per-worker factory of per-user HTTP clients, recording into `stats`. */
export function createHttpClientFactory(
  stats: RequestStats,
  defaults: HttpDefaults,
): (signal: AbortSignal) => HttpClient {
  const resolver = new UrlResolver(defaults.host);
  const baseHeaders = { "user-agent": `stampede/${VERSION}`, ...defaults.headers };
  return (signal) => {
    const request = async (
      method: string,
      url: string,
      options: RequestOptions = {},
    ): Promise<HttpResponse> => {
      const name = options.name ?? url;
      if (signal.aborted) {
        stats.abort(method, name);
        throw new RunStopped();
      }
      let target = resolver.resolve(url);
      if (options.query) {
        const search = new URLSearchParams();
        for (const [k, v] of Object.entries(options.query)) search.append(k, String(v));
        target += (target.includes("?") ? "&" : "?") + search;
      }
      let headers: Record<string, string> = options.headers
        ? { ...baseHeaders, ...options.headers }
        : baseHeaders;
      let body = options.body ?? null;
      if (options.json !== undefined) {
        body = JSON.stringify(options.json);
        if (headers["content-type"] === undefined) {
          headers = { ...headers, "content-type": "application/json" };
        }
      }
      const timeoutMs = options.timeoutMs ?? defaults.timeoutMs;
      const init: RequestInit = {
        method,
        headers,
        body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      };
      const start = performance.now();
      try {
        const res = await fetch(target, init);
        const payload = method === "HEAD" ? EMPTY : new Uint8Array(await res.arrayBuffer());
        const end = performance.now();
        const error = res.status >= 400 ? `HTTP ${res.status}` : null;
        stats.record(
          method,
          name,
          res.status,
          Math.round((end - start) * 1000),
          payload.length,
          error,
        );
        return new FetchResponse(
          res.status,
          res.statusText,
          error,
          res.headers,
          res.url,
          end - start,
          payload,
        );
      } catch (cause) {
        const end = performance.now();
        if (signal.aborted) {
          stats.abort(method, name);
          throw new RunStopped();
        }
        const error = describeFetchError(cause, timeoutMs);
        stats.record(method, name, 0, Math.round((end - start) * 1000), 0, error);
        return new FetchResponse(0, "", error, new Headers(), target, end - start, EMPTY);
      }
    };
    return {
      request,
      get: (url, options) => request("GET", url, options),
      head: (url, options) => request("HEAD", url, options),
      delete: (url, options) => request("DELETE", url, options),
      post: (url, options) => request("POST", url, options),
      put: (url, options) => request("PUT", url, options),
      patch: (url, options) => request("PATCH", url, options),
    };
  };
}
