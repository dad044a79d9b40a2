// Request heads of the h1 engine (autocannon's httpRequestBuilder.js): the bytes of a request's
// head, built once per method and URL when nothing else varies (kept in the request's head
// slot), and reused after that.
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
  // Credentials in the URL (`http://user:pass@host`) as Basic auth, as fetch sends them.
  if ((url.username !== "" || url.password !== "") && headers["authorization"] === undefined) {
    text += `authorization: ${basicAuthorization(url)}\r\n`;
  }
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

/** `Basic` credentials from a URL's user and password (percent-decoded, UTF-8). */
function basicAuthorization(url: URL): string {
  const pair = encoder.encode(
    `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`,
  );
  return `Basic ${btoa(String.fromCharCode(...pair))}`;
}

/**
 * The bytes to write first for a request: its head (kept in and taken from the request's head
 * slot when it has one), with the body when it is small.
 */
export function requestBytes(request: EngineRequest): Uint8Array {
  const slot = request.headSlot;
  const head = slot === null ? buildHead(request) : (slot.head ??= buildHead(request));
  const body = request.body;
  if (body === null || body.length === 0 || body.length > COALESCE_BODY_BYTES) return head;
  const both = new Uint8Array(head.length + body.length);
  both.set(head);
  both.set(body, head.length);
  return both;
}
