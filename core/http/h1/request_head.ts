// Request heads of the h1 engine (autocannon's httpRequestBuilder.js): the bytes of a request's
// head, built once per method and URL object when nothing else varies, and reused after that.
import type { EngineRequest } from "../engine.ts";

/** Bodies up to this size are sent in the same write as the head. */
export const COALESCE_BODY_BYTES = 16 * 1024;

const encoder = new TextEncoder();

/** The request head: request line, host, default accept headers, the request's headers. */
export function buildHead(request: EngineRequest): Uint8Array {
  const { url, headers, method } = request;
  let text = `${method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  if (headers["accept"] === undefined) text += "accept: */*\r\n";
  if (headers["accept-language"] === undefined) text += "accept-language: *\r\n";
  if (headers["accept-encoding"] === undefined) text += "accept-encoding: gzip,br\r\n";
  for (const name in headers) {
    const value = headers[name];
    if (/[\r\n\0]/.test(name) || /[\r\n\0]/.test(value)) {
      const what = /[\r\n]/.test(name + value) ? "CR or LF" : "NUL";
      throw new TypeError(`Cannot send header ${JSON.stringify(name)}: it contains ${what}`);
    }
    if (name !== "host" && name !== "content-length" && name !== "transfer-encoding") {
      text += `${name}: ${value}\r\n`;
    }
  }
  const body = request.body;
  if (body !== null || (method !== "GET" && method !== "HEAD" && method !== "DELETE")) {
    text += `content-length: ${body?.length ?? 0}\r\n`;
  }
  return encoder.encode(text + "\r\n");
}

/**
 * Makes one engine's request writer: it returns the bytes to write first (the head, with the
 * body when it is small), reusing the head built for a method and `url` object when the request
 * says its head is cacheable.
 */
export function createRequestWriter(): (request: EngineRequest) => Uint8Array {
  /** Request heads by method, then by the (resolver-cached) URL object they go to. */
  const heads = new Map<string, WeakMap<URL, Uint8Array>>();
  return function requestBytes(request: EngineRequest): Uint8Array {
    let head: Uint8Array | undefined;
    if (request.cacheableHead) {
      let byUrl = heads.get(request.method);
      if (byUrl === undefined) heads.set(request.method, byUrl = new WeakMap());
      head = byUrl.get(request.url);
      if (head === undefined) {
        head = buildHead(request);
        byUrl.set(request.url, head);
      }
    } else {
      head = buildHead(request);
    }
    const body = request.body;
    if (body === null || body.length === 0 || body.length > COALESCE_BODY_BYTES) return head;
    const both = new Uint8Array(head.length + body.length);
    both.set(head);
    both.set(body, head.length);
    return both;
  };
}
