// Request heads of the h1 engine (autocannon's httpRequestBuilder.js): the bytes of a request's
// head, built once per method and URL when nothing else varies (kept in the request's head
// slot), and reused after that.
import type { EngineRequest } from "../engine.ts";

/** Bodies up to this size are sent in the same write as the head. */
export const COALESCE_BODY_BYTES = 16 * 1024;

const encoder = new TextEncoder();

/**
 * The request head: request line, host, default accept headers and the request's headers. A
 * traced request's own `traceparent` (and its `tracestate` when the run has one) is left out:
 * {@link requestBytes} writes the trace context's lines into every traced request.
 */
export function buildHead(request: EngineRequest): Uint8Array {
  const { url, headers, method, trace } = request;
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
    if (
      name !== "host" && name !== "content-length" && name !== "transfer-encoding" &&
      (trace === null || name !== "traceparent") &&
      (trace === null || trace.tracestate === null || name !== "tracestate")
    ) {
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
 * A request's head: the one kept in its head slot for every request of its method and URL (built
 * with the first), or one built for it alone. Neither has the trace context: {@link requestBytes}
 * splices it in. Throws when a header cannot be sent.
 */
export function requestHead(request: EngineRequest): Uint8Array {
  const slot = request.headSlot;
  // A traced request with the plan's own trace headers: they are left out of a head for it alone.
  if (
    slot === null ||
    request.trace !== null &&
      (request.headers["traceparent"] !== undefined || request.headers["tracestate"] !== undefined)
  ) {
    return buildHead(request);
  }
  return slot.head ??= buildHead(request);
}

/**
 * Where a connection composes what it writes when that is more than a kept head (a trace context
 * spliced in, a small body): a buffer of its own, made with the first use and reused once each
 * write has completed. A typed array of its own per request cost about 1.5 µs to allocate.
 */
export class WriteBuffer {
  #bytes: Uint8Array | null = null;
  /** The last view taken: a connection's requests mostly compose to one size. */
  #view: Uint8Array | null = null;

  /** `size` bytes of the buffer, from its start (their contents are not kept between calls). */
  take(size: number): Uint8Array {
    const view = this.#view;
    if (view !== null && view.length === size) return view;
    let bytes = this.#bytes;
    if (bytes === null || bytes.length < size) {
      bytes = this.#bytes = new Uint8Array(Math.max(1024, 2 ** Math.ceil(Math.log2(size))));
    }
    return this.#view = bytes.subarray(0, size);
  }
}

/**
 * The bytes to write first for a request: `head` (see {@link requestHead}), with the trace
 * context's lines spliced in before its blank line, and with the body when the body is small;
 * composed in `buffer` when anything is added.
 */
export function requestBytes(
  request: EngineRequest,
  head: Uint8Array,
  buffer: WriteBuffer,
): Uint8Array {
  const trace = request.trace;
  const lines = trace === null ? 0 : trace.linesLength;
  const body = request.body;
  const bodyBytes = body === null || body.length > COALESCE_BODY_BYTES ? 0 : body.length;
  if (lines === 0 && bodyBytes === 0) return head;
  const out = buffer.take(head.length + lines + bodyBytes);
  out.set(head);
  if (lines !== 0) {
    const at = head.length - 2;
    trace!.writeLines(out, at);
    out[at + lines] = 13;
    out[at + lines + 1] = 10;
  }
  if (bodyBytes > 0) out.set(body!, out.length - bodyBytes);
  return out;
}
