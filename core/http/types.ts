// The HTTP side of a plan as its tasks see it: `ctx.http`, its options, its responses and the
// user's cookies. Engines and stats are not part of it.

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
  /**
   * Checks the response after it was timed: a function that returns `true` (or nothing) when
   * the response is right, and `false` or a failure text when not, e.g.
   * `(res) => res.status === 200 || "no items in body"`; a failing check makes a success a
   * failure with that text, on this request's own row, its latency kept. Or named checks,
   * `{ "status is 200": (res) => res.status === 200 }`: each is also counted by name, as
   * `ctx.check` counts. A check may be async (to read the body); one that throws fails.
   */
  check?: ResponseCheck | Readonly<Record<string, ResponseCheck>>;
}

/** What a response check returns: true or nothing when it holds, false or a failure text when not. */
export type CheckOutcome = boolean | string | void | null | undefined;

/** A check of a response, see {@link RequestOptions.check}. */
export type ResponseCheck = (response: HttpResponse) => CheckOutcome | Promise<CheckOutcome>;

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

/** A virtual user's cookies, as tasks see them through `ctx.http.cookies`. */
export interface HttpCookies {
  /** The cookies a request to `url` (default: the host) would send, by name. */
  get(url?: string): Record<string, string>;
  /** Stores a cookie given as a `Set-Cookie` value, as if `url` (default: the host) set it. */
  set(setCookie: string, url?: string): void;
  /** Forgets every cookie of this user (a logout). */
  clear(): void;
}
