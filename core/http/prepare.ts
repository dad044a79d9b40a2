// Step one of a request through `ctx.http`: resolve the URL against the host, add the query,
// merge the headers, encode the body. Nothing here is timed.
import type { RequestOptions } from "./types.ts";

/** A request ready for the engine; while redirects are followed it holds the current hop. */
export interface PreparedRequest {
  /** The method and name the request is counted under (the first hop's). */
  readonly method: string;
  readonly name: string;
  /** The current hop's method (a 303 turns it into GET). */
  hopMethod: string;
  /** The current hop's URL; the final URL once the exchange is over. */
  url: URL;
  /** Lower-case names: the worker's defaults, then the request's own. */
  headers: Record<string, string>;
  body: Uint8Array | null;
  readonly timeoutMs: number;
  readonly keepBody: boolean;
}

/** A request body as bytes, with the content type its kind implies (as fetch would send). */
export interface EncodedBody {
  bytes: Uint8Array | null;
  contentType: string | null;
}

const encoder = new TextEncoder();
/** Resolved URLs kept per worker: plans use a few paths over and over. */
const MAX_CACHED_URLS = 10_000;

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
      if (this.#cache.size < MAX_CACHED_URLS) this.#cache.set(url, resolved);
    }
    return resolved;
  }
}

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

/** Prepares the requests of one load worker's users against its host and default headers. */
export class RequestPreparer {
  readonly #resolver: UrlResolver;
  /** The worker's default headers (user-agent included), lower case: one object for all. */
  readonly baseHeaders: Record<string, string>;
  readonly #timeoutMs: number;

  constructor(host: string, baseHeaders: Record<string, string>, timeoutMs: number) {
    this.#resolver = new UrlResolver(host);
    this.baseHeaders = baseHeaders;
    this.#timeoutMs = timeoutMs;
  }

  /** `encoded`: the `body` option, encoded (see {@link encodeBody}), or null. */
  prepare(
    method: string,
    url: string,
    options: RequestOptions,
    encoded: EncodedBody | null,
  ): PreparedRequest {
    let target = this.#resolver.resolve(url);
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
    return {
      method,
      name: options.name ?? url,
      hopMethod: method,
      url: target,
      headers,
      body,
      timeoutMs: options.timeoutMs ?? this.#timeoutMs,
      keepBody: options.discardBody !== true,
    };
  }
}
