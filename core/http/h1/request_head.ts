// Request heads of the h1 engine (autocannon's httpRequestBuilder.js): the bytes of a request's
// head, built once per method and URL when nothing else varies (kept in the request's head
// slot), and reused after that.
import type { EngineRequest, TraceHeaders } from "../engine.ts";

/** Bodies up to this size are sent in the same write as the head. */
export const COALESCE_BODY_BYTES = 16 * 1024;

const encoder = new TextEncoder();

/**
 * The request head: request line, host, default accept headers, the request's headers, and its
 * trace context unless `withTrace` is false (a head kept for every request of a method and URL).
 */
export function buildHead(request: EngineRequest, withTrace = true): Uint8Array {
  const { url, headers, method } = request;
  const trace = withTrace ? request.trace : null;
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
      (trace?.tracestate == null || name !== "tracestate")
    ) {
      text += `${name}: ${value}\r\n`;
    }
  }
  if (trace !== null) text += traceLines(trace);
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
  const trace = request.trace;
  let head: Uint8Array;
  // A kept head with the plan's own trace headers in it cannot take ours on top.
  if (
    slot === null ||
    trace !== null &&
      (request.headers["traceparent"] !== undefined || request.headers["tracestate"] !== undefined)
  ) {
    head = buildHead(request);
  } else {
    head = slot.head ??= buildHead(request, false);
    if (trace !== null) head = withTraceLines(head, trace);
  }
  const body = request.body;
  if (body === null || body.length === 0 || body.length > COALESCE_BODY_BYTES) return head;
  const both = new Uint8Array(head.length + body.length);
  both.set(head);
  both.set(body, head.length);
  return both;
}

/** The header lines of a trace context. */
function traceLines(trace: TraceHeaders): string {
  const state = trace.tracestate === null ? "" : `tracestate: ${trace.tracestate}\r\n`;
  return `traceparent: ${trace.traceparent}\r\n${state}`;
}

/**
 * A kept head with the trace context's lines spliced in before its blank line: the bytes copied,
 * not the head built again (the trace context is ASCII, checked by the tracer's formatting).
 */
function withTraceLines(head: Uint8Array, trace: TraceHeaders): Uint8Array {
  const lines = traceLines(trace);
  const at = head.length - 2;
  const out = new Uint8Array(head.length + lines.length);
  out.set(head.subarray(0, at));
  for (let i = 0; i < lines.length; i++) out[at + i] = lines.charCodeAt(i);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  return out;
}
