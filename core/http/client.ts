// `ctx.http`: what a task calls. A request is prepared (URL, query, headers, body), exchanged
// (an engine, h1 or fetch, sends each hop; the client follows redirects and keeps the user's
// cookies), then recorded once into the worker's request sink. The exchange is what is timed.
import { RunStopped } from "../errors.ts";
import { NO_LATENCY, type RequestSink } from "../stats/request_stats.ts";
import { UserCookieJar } from "./cookie_jar.ts";
import {
  AS_RESPONSE,
  type EngineResponse,
  EngineUnsupported,
  type ExchangeEnd,
  FailureText,
  type HttpEngine,
  type HttpEngineName,
  HttpFailure,
  type HttpSession,
} from "./engine.ts";
import { runResponseCheck } from "./checks.ts";
import { normalizeFailureText } from "../stats/failure_text.ts";
import { failureOf } from "./failures.ts";
import { createFetchEngine } from "./fetch.ts";
import { createH1Engine } from "./h1/engine.ts";
import { type ClientRequest, encodeBody, lowerCaseKeys, RequestPreparer } from "./prepare.ts";
import { ClientResponse } from "./response.ts";
import type { IterationSpan, RequestTracer, TracedClient } from "./tracing.ts";
import { endAbortedHop, endRedirectHop, endTracedRequest, traceHop } from "./hop_tracing.ts";
import { addCookies, followRedirect, isRedirect, MAX_REDIRECTS, redirectOf } from "./redirects.ts";
import type { HttpClient, HttpResponse, RequestOptions } from "./types.ts";
import { VERSION } from "../version.ts";

// The plan-facing types, for the modules that import them from here.
export type {
  CheckOutcome,
  HttpClient,
  HttpCookies,
  HttpResponse,
  RequestOptions,
  ResponseCheck,
} from "./types.ts";

/** Defaults shared by every user of a load worker; each is resolved once, by the caller. */
export interface HttpDefaults {
  host: string;
  timeoutMs: number;
  headers: Record<string, string>;
  /** The engine requests run on (origins it cannot serve go through fetch). */
  engine: HttpEngineName;
  /** Skip TLS certificate checks (h1 only; fetch cannot in-process). */
  insecure: boolean;
  /** Told once per reason when requests fall back from h1 to fetch. */
  onWarning?: (message: string) => void;
  /** Where the clients note each request's last clock read (see {@link RequestClock}). */
  clock?: RequestClock;
  /** Traces requests (`--traces`); null or absent: no header, no span, nothing per request. */
  tracer?: RequestTracer | null;
}

/**
 * The clock as the worker's requests last read it: the end of every request's timing is noted
 * here, so a caller that needs "about now" right after (the load worker's starvation check)
 * need not read the clock again.
 */
export interface RequestClock {
  /** The last reading, `performance.now()` time. */
  lastMs: number;
  /** Readings noted so far: when it has not changed, `lastMs` is old. */
  reads: number;
}

const NO_OPTIONS: RequestOptions = Object.freeze({});

/** Request timeout when neither the request nor the plan sets one. */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** What the clients of one load worker share. */
interface SharedState {
  sink: RequestSink;
  clock: RequestClock;
  preparer: RequestPreparer;
  primary: HttpEngine;
  fetchEngine: HttpEngine;
  tracer: RequestTracer | null;
  /** Origins that h1 found it cannot serve during the run. */
  fallbackOrigins: Set<string>;
  warnOnce(key: string, message: string): void;
}

/** One virtual user's client: its methods live on the prototype, its state in a few fields. */
export class UserHttpClient implements HttpClient, TracedClient {
  /**
   * When the user's current iteration was due (`performance.now()` time), under an arrival
   * rate or pacing; its requests' latency is then also recorded from it (corrected latency).
   */
  intendedStartMs: number | null = null;
  readonly #shared: SharedState;
  /** The iteration (task run) the next requests belong to, when traces are on. */
  iteration: IterationSpan | null = null;
  readonly #signal: AbortSignal;
  readonly #primarySession: HttpSession;
  #fetchSession: HttpSession | null;
  #lastUrl: URL | null = null;
  /** The user's signal has aborted (a flag: the signal's getter checks its brand each time). */
  #userStopped = false;
  readonly cookies: UserCookieJar;

  constructor(shared: SharedState, signal: AbortSignal, host: string) {
    this.#shared = shared;
    this.#signal = signal;
    this.#userStopped = signal.aborted;
    signal.addEventListener("abort", () => this.#userStopped = true, { once: true });
    this.cookies = new UserCookieJar(host);
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

  request(
    method: string,
    url: string,
    options: RequestOptions = NO_OPTIONS,
  ): Promise<HttpResponse> {
    try {
      if (this.#userStopped) throw this.#stopped(method, options.name ?? url);
      if (options.json === undefined && options.body !== undefined && options.body !== null) {
        return this.#requestWithBody(method, url, options, options.body);
      }
      return this.#exchange(this.#shared.preparer.prepare(method, url, options, null));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async #requestWithBody(
    method: string,
    url: string,
    options: RequestOptions,
    body: BodyInit,
  ): Promise<HttpResponse> {
    const encoded = await encodeBody(body);
    return await this.#exchange(this.#shared.preparer.prepare(method, url, options, encoded));
  }

  /**
   * The timed part, the exchange: from handing the first hop to the engine to the last byte of
   * the final response (redirects included), one clock read before and one after. The first also
   * sets the deadline; the second also stands for "now" in the worker's clock.
   *
   * Most requests have no check, no cookie to send and no redirect: their end is recorded by
   * {@link #ends} inside the engine's own call (a traced one's span ends there too), and the task
   * awaits the engine's promise itself. The others, and the ones that turn out to redirect or to
   * need fetch, take {@link #exchangeInFull}.
   */
  #exchange(request: ClientRequest): Promise<HttpResponse> {
    const inFull = request.options.check !== undefined || !this.cookies.isEmpty;
    const session = inFull ? null : this.#sessionFor(request.url);
    const startMs = request.startMs = performance.now();
    request.deadlineMs = startMs + request.timeoutMs;
    if (session === null) return this.#exchangeInFull(request, null, false);
    const tracer = this.#shared.tracer;
    if (tracer !== null) traceHop(tracer, this.iteration, request, request.name, startMs, 0);
    return session.send(request, this.#ends);
  }

  /** Where the engine hands the end of an exchange sent by the fast path of {@link #exchange}. */
  readonly #ends: ExchangeEnd<HttpResponse, ClientRequest> = {
    answered: (request, response) => {
      if (response.setsCookies || isRedirect(response.status)) {
        return this.#exchangeInFull(request, response, true);
      }
      if (request.retries > 0) request.endpoint.retried(request.retries);
      return this.#record(request, response, request.startMs, performance.now());
    },
    failed: (request, cause) => {
      if (cause instanceof EngineUnsupported) {
        this.#fallBackToFetch(request);
        return this.#exchangeInFull(request, null, true);
      }
      if (request.retries > 0) request.endpoint.retried(request.retries);
      return this.#recordFailure(request, cause, request.startMs, performance.now());
    },
  };

  /**
   * The exchange with everything a request may need: cookies on each hop, redirects, a span per
   * hop, h1's fallback to fetch, the request's check. `first` is the first hop's response when
   * the fast path already has it; `firstTraced`, whether the fast path started the first hop's
   * span (it is not started again when that hop goes to fetch instead).
   */
  async #exchangeInFull(
    request: ClientRequest,
    first: EngineResponse | null,
    firstTraced: boolean,
  ): Promise<HttpResponse> {
    const options = request.options;
    const startMs = request.startMs;
    const tracer = this.#shared.tracer;
    let hopStartMs = startMs;
    let response: EngineResponse;
    try {
      let redirects = 0;
      while (true) {
        if (first !== null) {
          response = first;
          first = null;
          firstTraced = false;
        } else {
          if (!this.cookies.isEmpty) addCookies(request, this.cookies);
          if (firstTraced) {
            firstTraced = false;
          } else if (tracer !== null) {
            traceHop(
              tracer,
              this.iteration,
              request,
              request.name,
              hopStartMs,
              redirects,
            );
          }
          try {
            response = await this.#sessionFor(request.url).send(request, AS_RESPONSE);
          } catch (cause) {
            if (!(cause instanceof EngineUnsupported)) throw cause;
            this.#fallBackToFetch(request);
            response = await this.#sessionFor(request.url).send(request, AS_RESPONSE);
          }
        }
        const next = redirectOf(request, response, this.cookies);
        if (next === null) break;
        if (tracer !== null) hopStartMs = endRedirectHop(tracer, request, response.status);
        if (++redirects > MAX_REDIRECTS) {
          throw new HttpFailure(FailureText.redirects(MAX_REDIRECTS));
        }
        followRedirect(request, response.status, next);
      }
    } catch (cause) {
      if (request.retries > 0) request.endpoint.retried(request.retries);
      if (options.check === undefined) {
        return this.#recordFailure(request, cause, startMs, performance.now());
      }
      return this.#checked(request, null, cause, startMs, performance.now(), options.check);
    }
    if (request.retries > 0) request.endpoint.retried(request.retries);
    if (options.check === undefined) {
      return this.#record(request, response, startMs, performance.now());
    }
    return this.#checked(request, response, null, startMs, performance.now(), options.check);
  }

  /**
   * Records an exchange whose request has a check: the check runs on the response first (its
   * time is not the request's), and a failing one records a success as a failure with its text.
   */
  async #checked(
    request: ClientRequest,
    response: EngineResponse | null,
    cause: unknown,
    startMs: number,
    endMs: number,
    check: NonNullable<RequestOptions["check"]>,
  ): Promise<HttpResponse> {
    if (response === null && this.#userStopped) {
      return this.#recordFailure(request, cause, startMs, endMs);
    }
    // The clock is not noted: the check ran after endMs, so "now" is read afresh.
    const result = response === null
      ? new ClientResponse(
        0,
        failureOf(cause, request.timeoutMs).text,
        request,
        endMs - startMs,
        null,
      )
      : new ClientResponse(
        response.status,
        response.status >= 400 ? `HTTP ${response.status}` : null,
        request,
        endMs - startMs,
        response,
      );
    const sink = this.#shared.sink;
    const failure = await runResponseCheck(
      check,
      result,
      (name, passed) => sink.check(name, passed),
    );
    if (this.#userStopped) return this.#aborted(request, endMs);
    if (failure !== null) result.failCheck(normalizeFailureText(failure));
    const latencyUs = Math.round(result.durationMs * 1000);
    request.endpoint.record(
      result.status,
      latencyUs,
      response?.bodyBytes ?? 0,
      result.error,
      this.#correctedUs(endMs),
    );
    if (request.hop !== null) {
      endTracedRequest(
        this.#shared.tracer!,
        request,
        result.status,
        result.error,
        latencyUs,
        endMs,
      );
    }
    return result;
  }

  #noteClock(endMs: number): void {
    const clock = this.#shared.clock;
    clock.lastMs = endMs;
    clock.reads++;
  }

  /** Sends the requests to an origin h1 found it cannot serve after all through fetch. */
  #fallBackToFetch(request: ClientRequest): void {
    this.#shared.fallbackOrigins.add(request.url.origin);
    this.#lastUrl = null;
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

  /** Counts a finished exchange: an HTTP status of 400 or more is a failure. */
  #record(
    request: ClientRequest,
    response: EngineResponse,
    startMs: number,
    endMs: number,
  ): HttpResponse {
    this.#noteClock(endMs);
    const status = response.status;
    const error = status >= 400 ? `HTTP ${status}` : null;
    const durationMs = endMs - startMs;
    const latencyUs = Math.round(durationMs * 1000);
    request.endpoint.record(status, latencyUs, response.bodyBytes, error, this.#correctedUs(endMs));
    if (request.hop !== null) {
      endTracedRequest(this.#shared.tracer!, request, status, error, latencyUs, endMs);
    }
    return new ClientResponse(status, error, request, durationMs, response);
  }

  /** Counts a failed exchange under its failure text, or as aborted when the run stopped. */
  #recordFailure(
    request: ClientRequest,
    cause: unknown,
    startMs: number,
    endMs: number,
  ): HttpResponse {
    if (this.#userStopped) return this.#aborted(request, endMs);
    const error = failureOf(cause, request.timeoutMs).text;
    const durationMs = endMs - startMs;
    const latencyUs = Math.round(durationMs * 1000);
    request.endpoint.record(0, latencyUs, 0, error, this.#correctedUs(endMs));
    if (request.hop !== null) {
      endTracedRequest(this.#shared.tracer!, request, 0, error, latencyUs, endMs);
    }
    return new ClientResponse(0, error, request, durationMs, null);
  }

  /** A request's latency from when its iteration was due (µs), or NO_LATENCY when not paced. */
  #correctedUs(endMs: number): number {
    const due = this.intendedStartMs;
    return due === null ? NO_LATENCY : Math.round((endMs - due) * 1000);
  }

  /** Counts a request cut off by the stop as aborted (its span says so) and ends the task. */
  #aborted(request: ClientRequest, endMs: number): never {
    request.endpoint.abort();
    if (request.hop !== null) endAbortedHop(this.#shared.tracer!, request, endMs);
    throw new RunStopped();
  }

  /** Counts the request as aborted; returns the error that ends the task. */
  #stopped(method: string, name: string): RunStopped {
    this.#shared.sink.abort(method, name);
    return new RunStopped();
  }
}

/**
 * Creates the per-worker factory of per-user HTTP clients, recording into `sink`. Requests run
 * on `defaults.engine`; an origin h1 cannot serve (a proxy from the environment, a scheme other
 * than http/https, an HTTP/2-only server) goes through fetch, said once through `onWarning`.
 */
export function createHttpClientFactory(
  sink: RequestSink,
  defaults: HttpDefaults,
): (signal: AbortSignal) => UserHttpClient {
  const warned = new Set<string>();
  const fetchEngine = createFetchEngine((message) => defaults.onWarning?.(message));
  const baseHeaders = lowerCaseKeys({ "user-agent": `stampede/${VERSION}`, ...defaults.headers });
  const shared: SharedState = {
    sink,
    clock: defaults.clock ?? { lastMs: 0, reads: 0 },
    preparer: new RequestPreparer(defaults.host, baseHeaders, defaults.timeoutMs, sink),
    primary: defaults.engine === "h1"
      ? createH1Engine({ insecure: defaults.insecure })
      : fetchEngine,
    fetchEngine,
    tracer: defaults.tracer ?? null,
    fallbackOrigins: new Set(),
    warnOnce(key, message) {
      if (warned.has(key)) return;
      warned.add(key);
      defaults.onWarning?.(message);
    },
  };
  return (signal) => new UserHttpClient(shared, signal, defaults.host);
}
