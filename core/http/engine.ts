// The seam under `ctx.http`: an engine makes one HTTP exchange; the client around it does the
// rest (URLs, headers, redirects, cookies, stats), so a plan never knows which engine ran.

/** The HTTP engines `ctx.http` can run on. */
export const HTTP_ENGINES = ["h1", "fetch"] as const;

/** `h1`: HTTP/1.1 on `Deno.connect`/`Deno.connectTls`; `fetch`: Deno's `fetch`. */
export type HttpEngineName = typeof HTTP_ENGINES[number];

/** The engine when neither the command line nor the plan picks one. */
export const DEFAULT_HTTP_ENGINE: HttpEngineName = "h1";

/** How a worker's HTTP engine is set up, from flags and env vars; they win over the plan's. */
export interface HttpEngineOptions {
  engine?: HttpEngineName;
  /** Skips TLS certificate checks (`--insecure`). */
  insecure?: boolean;
}

/** One request as an engine sends it: no redirects followed, no cookies added. */
export interface EngineRequest {
  method: string;
  url: URL;
  /** Header names in lower case; the engine adds `host`, `content-length` and its defaults. */
  headers: Record<string, string>;
  body: Uint8Array | null;
  /**
   * Where an engine may keep the head it builds for this request, to send it again: given when
   * the head depends only on the method and the URL (the worker's default headers, no body, no
   * cookie), the same slot for the same method and URL; null when the head is the request's own.
   */
  headSlot: HeadSlot | null;
  /** The request fails with a timeout at this `performance.now()` time. */
  deadlineMs: number;
  /** The timeout as asked for, for the failure text. */
  timeoutMs: number;
  /** Keep the body for `bytes()`/`text()`; otherwise it is read, counted and dropped. */
  keepBody: boolean;
  /**
   * The trace context a traced request carries (`--traces`), sent as its `traceparent` header
   * and, when the run sets one, its `tracestate` (each over one of the same name in `headers`);
   * null when untraced. Kept apart
   * from `headers` so the h1 engine can splice it into the head it keeps in `headSlot`.
   */
  trace: TraceHeaders | null;
  /**
   * Times the engine sent the request again on a fresh connection, because a reused one closed
   * before any byte of an answer (h1, idempotent methods, at most once a hop); the engine adds.
   */
  retries: number;
}

/** A request's W3C trace context headers (core/http/trace_context.ts's TraceContext). */
export interface TraceHeaders {
  /** The `traceparent` value (made when read). */
  readonly traceparent: string;
  readonly tracestate: string | null;
  /** The length of the header lines {@link writeLines} writes. */
  readonly linesLength: number;
  /** Writes the `traceparent` (and `tracestate`) header lines as ASCII into `out` from `at`. */
  writeLines(out: Uint8Array, at: number): void;
}

/** A place for an engine's prebuilt request head (see {@link EngineRequest.headSlot}). */
export interface HeadSlot {
  /** The head's bytes as the engine writes them; null until an engine builds them. */
  head: Uint8Array | null;
}

/** What an engine returns once the last body byte has arrived. */
export interface EngineResponse {
  readonly status: number;
  /** May be decoded on first use. */
  readonly statusText: string;
  /** Header lines as received: name (lower case), value, name, value... (may be decoded on
   * first use: most responses are counted, not inspected). */
  readonly rawHeaders: string[];
  /** A `set-cookie` header is present (read without decoding the headers). */
  readonly setsCookies: boolean;
  /** The body's bytes as counted in the stats (as received for h1, decoded for fetch). */
  readonly bodyBytes: number;
  /** The decoded body; null when it was not kept. Called at most once. */
  body(): Uint8Array | null;
}

/**
 * Where an engine hands the end of an exchange, the moment it is known: the caller's code runs
 * there, inside the engine's own call, so a request costs one promise and one await between the
 * socket and the task, not one more per layer.
 */
export interface ExchangeEnd<T, R extends EngineRequest = EngineRequest> {
  /** The response's last byte has arrived. */
  answered(request: R, response: EngineResponse): T | Promise<T>;
  /**
   * The exchange failed: with an {@link HttpFailure}, with {@link EngineUnsupported} when the
   * engine cannot speak to the origin after all, or with the stop's reason once aborted.
   */
  failed(request: R, error: unknown): T | Promise<T>;
}

/** An {@link ExchangeEnd} that resolves with the engine's response and rejects with a failure. */
export const AS_RESPONSE: ExchangeEnd<EngineResponse> = Object.freeze({
  answered: (_request: EngineRequest, response: EngineResponse) => response,
  failed: (_request: EngineRequest, error: unknown): never => {
    throw error;
  },
});

/** One virtual user's connections: its requests go out on them one exchange at a time. */
export interface HttpSession {
  /**
   * Sends one request; resolves with what `end` makes of its response or its failure (with
   * {@link AS_RESPONSE}: the response, or a rejection with the failure).
   */
  send<T, R extends EngineRequest>(request: R, end: ExchangeEnd<T, R>): Promise<T>;
  /** Closes every connection; called when the user is aborted. */
  close(): void;
}

/** A worker's engine: makes one session per virtual user. */
export interface HttpEngine {
  readonly name: HttpEngineName;
  /** Whether this engine can send to `url` (scheme, proxies, protocol). */
  supports(url: URL): boolean;
  createSession(signal: AbortSignal): HttpSession;
}

/**
 * Thrown by a session when its engine cannot speak to an origin after all (h1 and a TLS server
 * that speaks only HTTP/2): the client then sends that origin's requests through fetch.
 */
export class EngineUnsupported extends Error {
  constructor(readonly reason: string, options?: ErrorOptions) {
    super(reason, options);
    this.name = "EngineUnsupported";
  }
}

/**
 * A failed exchange, with the short text the stats group it under. The texts are the same for
 * every engine (`core/http/failures.ts` maps errors to them; the engine conformance suite,
 * `core/http/engine_conformance*_test.ts`, checks it).
 */
export class HttpFailure extends Error {
  constructor(readonly text: string, options?: ErrorOptions) {
    super(text, options);
    this.name = "HttpFailure";
  }
}

/**
 * Methods a request of which may be sent again when a reused connection closed before any byte of
 * an answer (RFC 9110 §9.2.2): the h1 engine does, once; fetch may for any method (said once).
 */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "OPTIONS",
  "TRACE",
  "PUT",
  "DELETE",
]);

/** Failure texts shared by the engines. */
export const FailureText = {
  refused: "ConnectionRefused: connection refused",
  reset: "ConnectionReset: connection reset",
  closed: "ConnectionClosed: connection closed before the response completed",
  dns: "DnsError: cannot resolve host",
  malformed: "InvalidResponse: malformed HTTP response",
  timeout: (timeoutMs: number) => `Timeout: no response within ${timeoutMs} ms`,
  tls: "TlsError: invalid peer certificate",
  handshake: "TlsError: TLS handshake failed",
  redirects: (limit: number) => `TooManyRedirects: more than ${limit} redirects`,
} as const;
