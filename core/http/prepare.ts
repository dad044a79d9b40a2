// Step one of a request through `ctx.http`: resolve the URL against the host, add the query,
// merge the headers, encode the body, find where it is counted. Nothing here is timed; what can
// be is done once per URL as written and method, not per request.
import type { EndpointSink, RequestSink } from "../stats/request_stats.ts";
import type { EngineRequest, HeadSlot, TraceHeaders } from "./engine.ts";
import type { HopSpan } from "./tracing.ts";
import type { RequestOptions } from "./types.ts";

/**
 * A request as the client sends and counts it. It is the engine's request for the current hop
 * (redirects change its method, URL, headers and body) and knows where it is counted.
 */
export class ClientRequest implements EngineRequest {
  /** The clock read that starts its timing (`performance.now()` time). */
  startMs = 0;
  /** When the request times out, from the clock read that starts its timing. */
  deadlineMs = 0;
  /** The hop's headers before cookies are added (redirects drop some). */
  ownHeaders: Record<string, string>;
  /** The head slot of the first hop when nothing but the method and URL shape its head. */
  ownSlot: HeadSlot | null;
  /** The current hop's span when traces are on and its trace is sampled; else null. */
  hop: HopSpan | null = null;
  /** Attempts the engine sent again (see EngineRequest.retries), over every hop. */
  retries = 0;
  /** The current hop's trace context when traces are on (see EngineRequest.trace). */
  trace: TraceHeaders | null = null;

  constructor(
    /** The current hop's method (a 303 turns a POST into a GET). */
    public method: string,
    /** The current hop's URL; the final URL once the exchange is over. */
    public url: URL,
    /** Lower-case names: the worker's defaults, the request's own, and this user's cookies. */
    public headers: Record<string, string>,
    public body: Uint8Array | null,
    public headSlot: HeadSlot | null,
    readonly timeoutMs: number,
    readonly keepBody: boolean,
    /** Where the request is counted: its first method and its name. */
    readonly endpoint: EndpointSink,
    /** The options the task gave (its check). */
    readonly options: RequestOptions,
    /** The name it is counted under (`name`, else the URL as the task wrote it). */
    readonly name: string,
  ) {
    this.ownHeaders = headers;
    this.ownSlot = headSlot;
  }
}

/**
 * One method of a URL as a plan writes it: the slot its head is kept in, and the stats endpoint
 * of the name it was last counted under.
 */
class RouteMethod implements HeadSlot {
  head: Uint8Array | null = null;
  endpoint: EndpointSink | null = null;
  endpointName = "";
  constructor(readonly method: string) {}
}

/** A URL as a plan writes it, resolved once, with what each of its methods keeps. */
class Route {
  readonly #methods: RouteMethod[] = [];
  constructor(readonly url: URL) {}

  methodOf(method: string): RouteMethod {
    const methods = this.#methods;
    for (let i = 0; i < methods.length; i++) if (methods[i].method === method) return methods[i];
    const added = new RouteMethod(method);
    methods.push(added);
    return added;
  }
}

/** A request body as bytes, with the content type its kind implies (as fetch would send). */
export interface EncodedBody {
  bytes: Uint8Array | null;
  contentType: string | null;
}

const encoder = new TextEncoder();
/** Resolved URLs kept per worker: plans use a few paths over and over. */
const MAX_CACHED_URLS = 10_000;

/** Header names in lower case, values as strings. */
export function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) out[name.toLowerCase()] = String(headers[name]);
  return out;
}

/** Encodes a `body` option (strings as UTF-8; streams, forms and blobs as fetch reads them). */
export async function encodeBody(body: BodyInit): Promise<EncodedBody> {
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

/**
 * Prepares the requests of one load worker's users: URLs are resolved against the host once per
 * URL as written (a few thousand kept), with the stats endpoint and the head slot of each method.
 */
export class RequestPreparer {
  readonly #host: string;
  readonly #routes = new Map<string, Route>();
  readonly #sink: RequestSink;
  /** The worker's default headers (user-agent included), lower case: one object for all. */
  readonly baseHeaders: Record<string, string>;
  readonly #timeoutMs: number;

  constructor(
    host: string,
    baseHeaders: Record<string, string>,
    timeoutMs: number,
    sink: RequestSink,
  ) {
    this.#host = host;
    this.baseHeaders = baseHeaders;
    this.#timeoutMs = timeoutMs;
    this.#sink = sink;
  }

  /** `encoded`: the `body` option, encoded (see {@link encodeBody}), or null. */
  prepare(
    method: string,
    url: string,
    options: RequestOptions,
    encoded: EncodedBody | null,
  ): ClientRequest {
    const route = this.#routes.get(url) ?? this.#route(url);
    const slot = route.methodOf(method);
    const name = options.name ?? url;
    let endpoint = slot.endpoint;
    if (endpoint === null || slot.endpointName !== name) {
      endpoint = slot.endpoint = this.#sink.endpoint(method, name);
      slot.endpointName = name;
    }
    let target = route.url;
    if (options.query) {
      const search = new URLSearchParams();
      for (const [k, v] of Object.entries(options.query)) search.append(k, String(v));
      const href = target.href;
      target = new URL(href + (href.includes("?") ? "&" : "?") + search);
    }
    let headers = options.headers
      ? { ...this.baseHeaders, ...lowerCaseKeys(options.headers) }
      : this.baseHeaders;
    let body: Uint8Array | null = null;
    if (options.json !== undefined) {
      body = encoder.encode(JSON.stringify(options.json));
      if (headers["content-type"] === undefined) {
        headers = { ...headers, "content-type": "application/json" };
      }
    } else if (encoded !== null) {
      body = encoded.bytes;
      if (encoded.contentType !== null && headers["content-type"] === undefined) {
        headers = { ...headers, "content-type": encoded.contentType };
      }
    }
    const ownHead = headers === this.baseHeaders && body === null && target === route.url;
    return new ClientRequest(
      method,
      target,
      headers,
      body,
      ownHead ? slot : null,
      options.timeoutMs ?? this.#timeoutMs,
      options.discardBody !== true,
      endpoint,
      options,
      name,
    );
  }

  /** Resolves `url`; keeps the route unless {@link MAX_CACHED_URLS} are kept already. */
  #route(url: string): Route {
    const route = new Route(
      /^https?:\/\//i.test(url)
        ? new URL(url)
        : url.startsWith("/")
        ? new URL(this.#host + url)
        : new URL(url, this.#host + "/"),
    );
    if (this.#routes.size < MAX_CACHED_URLS) this.#routes.set(url, route);
    return route;
  }
}
