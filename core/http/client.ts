// `ctx.http`: what a task calls. It resolves URLs, merges headers, follows redirects, keeps the
// user's cookies and records each request once; an engine (h1 or fetch) makes the exchanges.
import type { RequestStats } from "../stats/request_stats.ts";
import { type HttpCookies, UserCookieJar } from "./cookie_jar.ts";
import { createFetchEngine, describeFetchError } from "./fetch.ts";
import { createH1Engine, H1Unsupported } from "./h1/engine.ts";
import {
  DEFAULT_HTTP_ENGINE,
  type EngineRequest,
  type EngineResponse,
  FailureText,
  type HttpEngine,
  type HttpEngineName,
  HttpFailure,
  type HttpSession,
} from "./engine.ts";
import { VERSION } from "../version.ts";

export { describeFetchError };
export type { HttpCookies };

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
  /**
   * Counts the body to its last byte without keeping it (large downloads): `bytes()`, `text()`
   * and `json()` then throw. Default false.
   */
  discardBody?: boolean;
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
  /** This user's cookies: set by responses, sent with later requests, with either engine. */
  readonly cookies: HttpCookies;
  /** Closes this user's connections (when the user ends). */
  close(): void;
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
  /** The engine (default {@link DEFAULT_HTTP_ENGINE}). */
  engine?: HttpEngineName;
  /** Skip TLS certificate checks (h1 only; fetch cannot in-process). */
  insecure?: boolean;
  /** Told once per reason when requests fall back from h1 to fetch. */
  onWarning?: (message: string) => void;
}

/** Request timeout when neither the request nor the plan sets one. */
export const DEFAULT_TIMEOUT_MS = 60_000;
/** Redirects followed before a request fails, as fetch. */
export const MAX_REDIRECTS = 20;
const EMPTY = new Uint8Array(0);
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Resolves request URLs against the host, caching the common case of repeated paths. */
class UrlResolver {
  readonly #cache = new Map<string, URL>();
  constructor(readonly host: string) {}

  resolve(url: string): URL {
    let resolved = this.#cache.get(url);
    if (resolved === undefined) {
      resolved = /^https?:\/\//i.test(url)
        ? new URL(url)
        : url.startsWith("/")
        ? new URL(this.host + url)
        : new URL(url, this.host + "/");
      if (this.#cache.size < 10_000) this.#cache.set(url, resolved);
    }
    return resolved;
  }
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) out[name.toLowerCase()] = String(headers[name]);
  return out;
}

function headersOf(raw: string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  return headers;
}

function setCookiesOf(raw: string[]): string[] | null {
  let found: string[] | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i] === "set-cookie") (found ??= []).push(raw[i + 1]);
  }
  return found;
}

function headerOf(raw: string[], name: string): string | null {
  for (let i = 0; i < raw.length; i += 2) if (raw[i] === name) return raw[i + 1];
  return null;
}

/** A request body as bytes, with the content type its kind implies (as fetch would send). */
async function bodyBytes(
  body: BodyInit | null | undefined,
): Promise<{ bytes: Uint8Array | null; contentType: string | null }> {
  if (body === null || body === undefined) return { bytes: null, contentType: null };
  if (typeof body === "string") {
    return { bytes: encoder.encode(body), contentType: "text/plain;charset=UTF-8" };
  }
  if (body instanceof Uint8Array) return { bytes: body, contentType: null };
  if (body instanceof ArrayBuffer) return { bytes: new Uint8Array(body), contentType: null };
  if (ArrayBuffer.isView(body)) {
    return {
      bytes: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
      contentType: null,
    };
  }
  const response = new Response(body);
  return {
    bytes: new Uint8Array(await response.arrayBuffer()),
    contentType: response.headers.get("content-type"),
  };
}

class ClientResponse implements HttpResponse {
  #headers: Headers | null = null;
  #body: Uint8Array | null | undefined = undefined;
  constructor(
    readonly status: number,
    readonly error: string | null,
    readonly url: string,
    readonly durationMs: number,
    /** What the engine returned; null when there was no response. */
    readonly response: EngineResponse | null,
  ) {}
  get ok(): boolean {
    return this.error === null;
  }
  get statusText(): string {
    return this.response?.statusText ?? "";
  }
  get headers(): Headers {
    return this.#headers ??= headersOf(this.response?.rawHeaders ?? []);
  }
  bytes(): Promise<Uint8Array> {
    if (this.#body === undefined) {
      try {
        this.#body = this.response === null ? EMPTY : this.response.body();
      } catch (cause) {
        return Promise.reject(
          new Error(`Cannot decode the body of ${this.url}: ${(cause as Error).message}`, {
            cause,
          }),
        );
      }
    }
    if (this.#body === null) {
      return Promise.reject(
        new Error(`Cannot read the body of ${this.url}: the request had discardBody set`),
      );
    }
    return Promise.resolve(this.#body);
  }
  text(): Promise<string> {
    return this.bytes().then((b) => decoder.decode(b));
  }
  json<T>(): Promise<T> {
    return this.text().then((t) => JSON.parse(t) as T);
  }
}

/** What the clients of one load worker share. */
interface SharedState {
  stats: RequestStats;
  defaults: HttpDefaults;
  resolver: UrlResolver;
  baseHeaders: Record<string, string>;
  primary: HttpEngine;
  fetchEngine: HttpEngine;
  /** Origins that h1 found it cannot serve during the run. */
  fallbackOrigins: Set<string>;
  warnOnce(key: string, message: string): void;
}

/** One virtual user's client: its methods live on the prototype, its state in a few fields. */
class UserHttpClient implements HttpClient {
  readonly #shared: SharedState;
  readonly #signal: AbortSignal;
  readonly #primarySession: HttpSession;
  #fetchSession: HttpSession | null;
  #lastUrl: URL | null = null;
  readonly cookies: UserCookieJar;

  constructor(shared: SharedState, signal: AbortSignal) {
    this.#shared = shared;
    this.#signal = signal;
    this.cookies = new UserCookieJar(shared.defaults.host);
    this.#primarySession = shared.primary.createSession(signal);
    this.#fetchSession = shared.primary === shared.fetchEngine ? this.#primarySession : null;
  }

  get(url: string, options?: RequestOptions): Promise<HttpResponse> {
    return this.request("GET", url, options);
  }
  head(url: string, options?: RequestOptions): Promise<HttpResponse> {
    return this.request("HEAD", url, options);
  }
  delete(url: string, options?: RequestOptions): Promise<HttpResponse> {
    return this.request("DELETE", url, options);
  }
  post(url: string, options?: RequestOptions): Promise<HttpResponse> {
    return this.request("POST", url, options);
  }
  put(url: string, options?: RequestOptions): Promise<HttpResponse> {
    return this.request("PUT", url, options);
  }
  patch(url: string, options?: RequestOptions): Promise<HttpResponse> {
    return this.request("PATCH", url, options);
  }

  close(): void {
    this.#primarySession.close();
    if (this.#fetchSession !== this.#primarySession) this.#fetchSession?.close();
  }

  #sessionFor(url: URL): HttpSession {
    const s = this.#shared;
    if (s.primary === s.fetchEngine || url === this.#lastUrl) return this.#primarySession;
    if (
      s.primary.supports(url) &&
      (s.fallbackOrigins.size === 0 || !s.fallbackOrigins.has(url.origin))
    ) {
      this.#lastUrl = url;
      return this.#primarySession;
    }
    s.warnOnce(
      url.protocol + url.host,
      `h1 engine cannot send to ${url.origin} (${
        url.protocol !== "http:" && url.protocol !== "https:"
          ? "scheme"
          : s.fallbackOrigins.has(url.origin)
          ? "HTTP/2 only"
          : "a proxy is set in the environment"
      }): its requests go through fetch`,
    );
    return this.#fetchSession ??= s.fetchEngine.createSession(this.#signal);
  }

  async request(
    method: string,
    url: string,
    options: RequestOptions = {},
  ): Promise<HttpResponse> {
    const s = this.#shared;
    const name = options.name ?? url;
    if (this.#signal.aborted) {
      s.stats.abort(method, name);
      throw new RunStopped();
    }
    let target = s.resolver.resolve(url);
    if (options.query) {
      const search = new URLSearchParams();
      for (const [k, v] of Object.entries(options.query)) search.append(k, String(v));
      const href = target.href;
      target = new URL(href + (href.includes("?") ? "&" : "?") + search);
    }
    let headers = options.headers
      ? { ...s.baseHeaders, ...lowerCaseKeys(options.headers) }
      : s.baseHeaders;
    let body: Uint8Array | null = null;
    if (options.json !== undefined) {
      body = encoder.encode(JSON.stringify(options.json));
      if (headers["content-type"] === undefined) {
        headers = { ...headers, "content-type": "application/json" };
      }
    } else if (options.body !== undefined && options.body !== null) {
      const encoded = await bodyBytes(options.body);
      body = encoded.bytes;
      if (encoded.contentType !== null && headers["content-type"] === undefined) {
        headers = { ...headers, "content-type": encoded.contentType };
      }
    }
    const timeoutMs = options.timeoutMs ?? s.defaults.timeoutMs;
    const keepBody = options.discardBody !== true;
    let currentMethod = method;
    let redirects = 0;
    const start = performance.now();
    const deadlineMs = start + timeoutMs;
    let response: EngineResponse;
    let error: string | null = null;
    try {
      while (true) {
        let sent = headers;
        if (!this.cookies.isEmpty) {
          const cookie = this.cookies.headerFor(target.href);
          if (cookie) {
            sent = {
              ...headers,
              cookie: headers.cookie ? `${headers.cookie}; ${cookie}` : cookie,
            };
          }
        }
        const engineRequest: EngineRequest = {
          method: currentMethod,
          url: target,
          headers: sent,
          body,
          cacheableHead: sent === s.baseHeaders && body === null,
          deadlineMs,
          timeoutMs,
          keepBody,
        };
        const session = this.#sessionFor(target);
        try {
          response = await session.send(engineRequest);
        } catch (cause) {
          if (!(cause instanceof H1Unsupported)) throw cause;
          s.fallbackOrigins.add(target.origin);
          this.#lastUrl = null;
          response = await this.#sessionFor(target).send(engineRequest);
        }
        if (response.setsCookies) {
          const setCookies = setCookiesOf(response.rawHeaders);
          if (setCookies !== null) this.cookies.store(setCookies, target.href);
        }
        const status = response.status;
        if (status < 300 || status > 308 || status === 304 || status === 305 || status === 306) {
          break;
        }
        const location = headerOf(response.rawHeaders, "location");
        if (location === null) break;
        if (++redirects > MAX_REDIRECTS) {
          throw new HttpFailure(FailureText.redirects(MAX_REDIRECTS));
        }
        const next = new URL(location, target);
        if (
          status === 303 && currentMethod !== "GET" && currentMethod !== "HEAD" ||
          (status === 301 || status === 302) && currentMethod === "POST"
        ) {
          currentMethod = "GET";
          body = null;
          const { "content-type": _t, "content-length": _l, ...rest } = headers;
          headers = rest;
        }
        if (next.origin !== target.origin && headers.authorization !== undefined) {
          const { authorization: _a, ...rest } = headers;
          headers = rest;
        }
        target = next;
      }
    } catch (cause) {
      const end = performance.now();
      if (this.#signal.aborted) {
        s.stats.abort(method, name);
        throw new RunStopped();
      }
      error = cause instanceof HttpFailure ? cause.text : describeFetchError(cause, timeoutMs);
      s.stats.record(method, name, 0, Math.round((end - start) * 1000), 0, error);
      return new ClientResponse(0, error, target.href, end - start, null);
    }
    const end = performance.now();
    const status = response.status;
    if (status >= 400) error = `HTTP ${status}`;
    s.stats.record(
      method,
      name,
      status,
      Math.round((end - start) * 1000),
      response.bodyBytes,
      error,
    );
    return new ClientResponse(status, error, target.href, end - start, response);
  }
}

/**
 * Creates the per-worker factory of per-user HTTP clients, recording into `stats`. Requests run
 * on `defaults.engine`; an origin h1 cannot serve (a proxy from the environment, a scheme other
 * than http/https, an HTTP/2-only server) goes through fetch, said once through `onWarning`.
 */
export function createHttpClientFactory(
  stats: RequestStats,
  defaults: HttpDefaults,
): (signal: AbortSignal) => HttpClient {
  const engineName = defaults.engine ?? DEFAULT_HTTP_ENGINE;
  const fetchEngine = createFetchEngine();
  const warned = new Set<string>();
  const shared: SharedState = {
    stats,
    defaults,
    resolver: new UrlResolver(defaults.host),
    baseHeaders: lowerCaseKeys({ "user-agent": `stampede/${VERSION}`, ...defaults.headers }),
    primary: engineName === "h1"
      ? createH1Engine({ insecure: defaults.insecure ?? false })
      : fetchEngine,
    fetchEngine,
    fallbackOrigins: new Set(),
    warnOnce(key, message) {
      if (warned.has(key)) return;
      warned.add(key);
      defaults.onWarning?.(message);
    },
  };
  return (signal) => new UserHttpClient(shared, signal);
}
