// HTTP/1.1 response parsing for the h1 engine: pure functions over a byte buffer, no I/O.

/** A response the h1 engine cannot read: the exchange fails as a malformed response. */
export class ParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ParseError";
  }
}

/** A parsed response head (status line and header fields). */
export interface ResponseHead {
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minorVersion: number;
  status: number;
  statusText: string;
  /** name (lower case), value, name, value... in the order received. */
  rawHeaders: string[];
  /** The body's length from `content-length`, or -1 when the header is absent. */
  contentLength: number;
  /** `transfer-encoding` ends with `chunked`. */
  chunked: boolean;
  /** The connection may carry another request after this response. */
  keepAlive: boolean;
  contentEncoding: string | null;
  /** Bytes of the head, blank line included. */
  headLength: number;
}

const LF = 10;
const CR = 13;
const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();
const STATUS_LINE = /^HTTP\/1\.([01]) ([0-9]{3})(?: (.*))?$/;
const BAD_NAME = /[^!#$%&'*+\-.^_`|~0-9a-z]/;
/** A head larger than this is refused (hyper's default limit is about the same). */
export const MAX_HEAD_BYTES = 64 * 1024;

/** Where the head in `buf[start, end)` ends (after its blank line), or -1 if it is incomplete. */
export function findHeadEnd(buf: Uint8Array, start: number, end: number): number {
  // A plain loop: faster than indexOf over the few hundred bytes of a head.
  for (let i = start; i < end; i++) {
    if (buf[i] !== LF) continue;
    const next = buf[i + 1];
    if (i + 1 < end && next === LF) return i + 2;
    if (i + 2 < end && next === CR && buf[i + 2] === LF) return i + 3;
  }
  return -1;
}

/**
 * Parses the response head at the start of `buf[start, end)`. Returns null while the head is
 * incomplete; throws {@link ParseError} when it is malformed.
 */
export function parseResponseHead(
  buf: Uint8Array,
  start: number,
  end: number,
): ResponseHead | null {
  const headEnd = findHeadEnd(buf, start, end);
  if (headEnd < 0) {
    if (end - start > MAX_HEAD_BYTES) throw new ParseError("response head too large");
    // A status line that cannot be HTTP fails at once, before more bytes arrive.
    if (end - start >= 5 && !startsWithHttp(buf, start)) {
      throw new ParseError("not an HTTP/1.x response");
    }
    return null;
  }
  const head = buf.subarray(start, headEnd);
  // Heads are ASCII in practice: UTF-8 decoding is the fast path; other bytes are latin1.
  let text = utf8.decode(head);
  if (text.includes("\uFFFD")) text = latin1.decode(head);
  let lineEnd = text.indexOf("\n");
  const statusLine = stripCr(text.slice(0, lineEnd));
  const match = STATUS_LINE.exec(statusLine);
  if (!match) throw new ParseError(`malformed status line`);
  const minorVersion = match[1] === "1" ? 1 : 0;
  const status = Number(match[2]);
  if (status < 100) throw new ParseError(`malformed status code`);
  const rawHeaders: string[] = [];
  let contentLength = -1;
  let chunked = false;
  let connectionClose = false;
  let connectionKeepAlive = false;
  let contentEncoding: string | null = null;
  while (true) {
    const lineStart = lineEnd + 1;
    lineEnd = text.indexOf("\n", lineStart);
    // The blank line ends the head.
    if (lineEnd < 0 || lineEnd === lineStart) break;
    if (lineEnd === lineStart + 1 && text.charCodeAt(lineStart) === CR) break;
    const colon = text.indexOf(":", lineStart);
    if (colon <= lineStart || colon > lineEnd) throw new ParseError("malformed header line");
    const lower = text.slice(lineStart, colon).toLowerCase();
    if (BAD_NAME.test(lower)) throw new ParseError("malformed header name");
    const value = text.slice(colon + 1, lineEnd).trim();
    rawHeaders.push(lower, value);
    switch (lower) {
      case "content-length": {
        for (const part of value.split(",")) {
          const v = part.trim();
          if (!/^[0-9]+$/.test(v)) throw new ParseError("invalid content-length");
          const n = Number(v);
          if (!Number.isSafeInteger(n)) throw new ParseError("invalid content-length");
          if (contentLength >= 0 && n !== contentLength) {
            throw new ParseError("conflicting content-length");
          }
          contentLength = n;
        }
        break;
      }
      case "transfer-encoding":
        chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
        break;
      case "connection": {
        const v = value.toLowerCase();
        if (v.includes("close")) connectionClose = true;
        if (v.includes("keep-alive")) connectionKeepAlive = true;
        break;
      }
      case "content-encoding":
        contentEncoding = contentEncoding === null ? value : `${contentEncoding}, ${value}`;
        break;
    }
  }
  if (chunked) contentLength = -1;
  const keepAlive = !connectionClose && (minorVersion === 1 || connectionKeepAlive);
  return {
    minorVersion,
    status,
    statusText: match[3] ?? "",
    rawHeaders,
    contentLength,
    chunked,
    keepAlive,
    contentEncoding,
    headLength: headEnd - start,
  };
}

function stripCr(line: string): string {
  return line.length > 0 && line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line;
}

function startsWithHttp(buf: Uint8Array, at: number): boolean {
  // "HTTP/"
  return buf[at] === 72 && buf[at + 1] === 84 && buf[at + 2] === 84 && buf[at + 3] === 80 &&
    buf[at + 4] === 47;
}

/** A chunk-size line: the chunk's size and where its data starts. */
export interface ChunkHeader {
  size: number;
  dataStart: number;
}

/**
 * Parses a chunk-size line (`1a2b;ext=1\r\n`) at `buf[start]`. Returns null while the line is
 * incomplete; throws {@link ParseError} when it is malformed.
 */
export function parseChunkHeader(buf: Uint8Array, start: number, end: number): ChunkHeader | null {
  let size = 0;
  let digits = 0;
  let at = start;
  for (; at < end; at++) {
    const c = buf[at];
    const v = c >= 48 && c <= 57
      ? c - 48
      : c >= 97 && c <= 102
      ? c - 87
      : c >= 65 && c <= 70
      ? c - 55
      : -1;
    if (v < 0) break;
    size = size * 16 + v;
    if (++digits > 12) throw new ParseError("chunk size too large");
  }
  if (at === end) {
    if (end - start > 1024) throw new ParseError("chunk size line too long");
    return null;
  }
  if (digits === 0) throw new ParseError("malformed chunk size");
  const lf = buf.indexOf(LF, at);
  if (lf < 0 || lf >= end) {
    if (end - start > 1024) throw new ParseError("chunk size line too long");
    return null;
  }
  // Between the digits and the LF: optional whitespace, extensions, CR.
  const c = buf[at];
  if (c !== CR && c !== LF && c !== 59 /* ; */ && c !== 32 && c !== 9) {
    throw new ParseError("malformed chunk size");
  }
  return { size, dataStart: lf + 1 };
}

/**
 * Where the line ending after a chunk's data ends: `at + 2` for CRLF, `at + 1` for LF; null
 * while incomplete; throws {@link ParseError} when something else follows the data.
 */
export function skipChunkEnd(buf: Uint8Array, at: number, end: number): number | null {
  if (at >= end) return null;
  if (buf[at] === LF) return at + 1;
  if (buf[at] !== CR) throw new ParseError("missing CRLF after chunk data");
  if (at + 1 >= end) return null;
  if (buf[at + 1] !== LF) throw new ParseError("missing CRLF after chunk data");
  return at + 2;
}

/**
 * Where the trailer section after the last chunk (`0\r\n`) ends, starting at `buf[at]`: after
 * the blank line; -1 while incomplete.
 */
export function findTrailersEnd(buf: Uint8Array, at: number, end: number): number {
  if (at >= end) return -1;
  if (buf[at] === LF) return at + 1;
  if (buf[at] === CR) {
    if (at + 1 >= end) return -1;
    if (buf[at + 1] === LF) return at + 2;
    throw new ParseError("malformed trailer section");
  }
  const found = findHeadEnd(buf, at, end);
  if (found < 0 && end - at > MAX_HEAD_BYTES) throw new ParseError("trailers too large");
  return found;
}
