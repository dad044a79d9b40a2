// HTTP/1.1 response parsing for the h1 engine: pure functions over a byte buffer, no I/O.
import { MalformedResponse } from "../failures.ts";

/** A response the h1 engine cannot read: the exchange fails as a malformed response. */
export class ParseError extends MalformedResponse {
  constructor(message: string) {
    super(message);
    this.name = "ParseError";
  }
}

/** Token characters of a header name (RFC 9110 tchar). */
const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TOKEN[c.charCodeAt(0)] = 1;
}
const LF = 10;
const CR = 13;
const SP = 32;
const HTAB = 9;
const COLON = 58;
const COMMA = 44;
const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();
/** A head larger than this is refused (hyper's default limit is about the same). */
export const MAX_HEAD_BYTES = 64 * 1024;

/**
 * A parsed response head. The framing fields are read from the bytes as they are parsed; the
 * status text and header strings are split out of the head's text only when asked for: most
 * responses of a load test are counted, not inspected.
 */
export class ResponseHead {
  #rawHeaders: string[] | null = null;
  #statusText: string | null = null;
  constructor(
    /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
    readonly minorVersion: number,
    readonly status: number,
    /** The body's length from `content-length`, or -1 when absent (or chunked). */
    readonly contentLength: number,
    /** `transfer-encoding` ends with `chunked`. */
    readonly chunked: boolean,
    /** The connection may carry another request after this response. */
    readonly keepAlive: boolean,
    readonly contentEncoding: string | null,
    /** A `set-cookie` header is present. */
    readonly setsCookies: boolean,
    /** Bytes of the head, blank line included. */
    readonly headLength: number,
    /** The head as text, from the status line to the blank line (decoding a string is cheaper
     * than copying the bytes). */
    readonly text: string,
  ) {}

  get statusText(): string {
    if (this.#statusText === null) {
      // After "HTTP/1.x NNN ", up to the end of the line.
      const text = this.text;
      let end = text.indexOf("\n");
      if (end > 0 && text.charCodeAt(end - 1) === CR) end--;
      this.#statusText = end > 13 ? text.slice(13, end) : "";
    }
    return this.#statusText;
  }

  /** name (lower case), value, name, value... in the order received. */
  get rawHeaders(): string[] {
    if (this.#rawHeaders === null) {
      const text = this.text;
      const raw: string[] = [];
      let lineEnd = text.indexOf("\n");
      while (true) {
        const lineStart = lineEnd + 1;
        lineEnd = text.indexOf("\n", lineStart);
        if (lineEnd < 0 || lineEnd === lineStart) break;
        if (lineEnd === lineStart + 1 && text.charCodeAt(lineStart) === CR) break;
        const colon = text.indexOf(":", lineStart);
        raw.push(text.slice(lineStart, colon).toLowerCase(), text.slice(colon + 1, lineEnd).trim());
      }
      this.#rawHeaders = raw;
    }
    return this.#rawHeaders;
  }
}

/** Heads are ASCII in practice: UTF-8 decoding is the fast path; other bytes are latin1. */
function decodeHeadText(bytes: Uint8Array): string {
  const text = utf8.decode(bytes);
  return text.includes("\uFFFD") ? latin1.decode(bytes) : text;
}

/** A short header value's bytes as a string, one byte per character (TextDecoder is an op call:
 * slower than this loop for the few bytes of the headers that need it). */
function valueText(buf: Uint8Array, start: number, end: number): string {
  let text = "";
  for (let i = start; i < end; i++) text += String.fromCharCode(buf[i]);
  return text;
}

/** Whether `buf[start, end)` is `text` (lower case ASCII), ignoring ASCII case. */
function equalsIgnoringCase(buf: Uint8Array, start: number, end: number, text: string): boolean {
  if (end - start !== text.length) return false;
  for (let i = 0; i < text.length; i++) {
    const c = buf[start + i];
    if ((c >= 65 && c <= 90 ? c | 0x20 : c) !== text.charCodeAt(i)) return false;
  }
  return true;
}

/** `content-length`'s value: a number, or a list of the same number. */
function contentLengthOf(buf: Uint8Array, start: number, end: number): number {
  let length = -1;
  let at = start;
  while (at <= end) {
    let partEnd = at;
    while (partEnd < end && buf[partEnd] !== COMMA) partEnd++;
    let s = at;
    let e = partEnd;
    while (s < e && (buf[s] === SP || buf[s] === HTAB)) s++;
    while (e > s && (buf[e - 1] === SP || buf[e - 1] === HTAB)) e--;
    if (s === e || e - s > 15) throw new ParseError("invalid content-length");
    let n = 0;
    for (let i = s; i < e; i++) {
      const d = buf[i] - 48;
      if (d < 0 || d > 9) throw new ParseError("invalid content-length");
      n = n * 10 + d;
    }
    if (length >= 0 && n !== length) throw new ParseError("conflicting content-length");
    length = n;
    at = partEnd + 1;
  }
  return length;
}

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
 * Parses the response head at the start of `buf[start, end)`, byte by byte. Returns null while
 * the head is incomplete; throws {@link ParseError} when it is malformed.
 */
export function parseResponseHead(
  buf: Uint8Array,
  start: number,
  end: number,
): ResponseHead | null {
  // The status line: "HTTP/1." digit SP 3DIGIT [SP reason] CRLF.
  if (end - start >= 5 && !startsWithHttp(buf, start)) {
    throw new ParseError("not an HTTP/1.x response");
  }
  let lf = buf.indexOf(LF, start);
  if (lf < 0 || lf >= end) return incomplete(start, end);
  let lineEnd = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
  const minor = buf[start + 7] - 48;
  const s1 = buf[start + 9] - 48;
  const s2 = buf[start + 10] - 48;
  const s3 = buf[start + 11] - 48;
  if (
    lineEnd - start < 12 || buf[start + 6] !== 46 || (minor !== 0 && minor !== 1) ||
    buf[start + 8] !== SP || !(s1 >= 0 && s1 <= 9 && s2 >= 0 && s2 <= 9 && s3 >= 0 && s3 <= 9) ||
    (lineEnd - start > 12 && buf[start + 12] !== SP)
  ) {
    throw new ParseError("malformed status line");
  }
  const status = s1 * 100 + s2 * 10 + s3;
  if (status < 100) throw new ParseError("malformed status code");
  let contentLength = -1;
  let chunked = false;
  let connectionClose = false;
  let connectionKeepAlive = false;
  let contentEncoding: string | null = null;
  let setsCookies = false;
  while (true) {
    const lineStart = lf + 1;
    lf = buf.indexOf(LF, lineStart);
    if (lf < 0 || lf >= end) return incomplete(start, end);
    lineEnd = lf > lineStart && buf[lf - 1] === CR ? lf - 1 : lf;
    // The blank line ends the head.
    if (lineEnd === lineStart) break;
    let colon = lineStart;
    while (colon < lineEnd && TOKEN[buf[colon]] === 1) colon++;
    if (colon === lineStart || colon === lineEnd || buf[colon] !== COLON) {
      throw new ParseError(
        buf.subarray(colon, lineEnd).includes(COLON)
          ? "malformed header name"
          : "malformed header line",
      );
    }
    let valueStart = colon + 1;
    let valueEnd = lineEnd;
    while (valueStart < valueEnd && (buf[valueStart] === SP || buf[valueStart] === HTAB)) {
      valueStart++;
    }
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) {
      valueEnd--;
    }
    // By the name's length first: most headers are none of these.
    switch (colon - lineStart) {
      case 10:
        if (equalsIgnoringCase(buf, lineStart, colon, "connection")) {
          if (equalsIgnoringCase(buf, valueStart, valueEnd, "keep-alive")) {
            connectionKeepAlive = true;
          } else if (equalsIgnoringCase(buf, valueStart, valueEnd, "close")) {
            connectionClose = true;
          } else {
            const v = valueText(buf, valueStart, valueEnd).toLowerCase();
            if (v.includes("close")) connectionClose = true;
            if (v.includes("keep-alive")) connectionKeepAlive = true;
          }
        } else if (equalsIgnoringCase(buf, lineStart, colon, "set-cookie")) {
          setsCookies = true;
        }
        break;
      case 14:
        if (equalsIgnoringCase(buf, lineStart, colon, "content-length")) {
          const n = contentLengthOf(buf, valueStart, valueEnd);
          if (contentLength >= 0 && n !== contentLength) {
            throw new ParseError("conflicting content-length");
          }
          contentLength = n;
        }
        break;
      case 16:
        if (equalsIgnoringCase(buf, lineStart, colon, "content-encoding")) {
          const v = valueText(buf, valueStart, valueEnd);
          contentEncoding = contentEncoding === null ? v : `${contentEncoding}, ${v}`;
        }
        break;
      case 17:
        if (equalsIgnoringCase(buf, lineStart, colon, "transfer-encoding")) {
          chunked = /(?:^|,)\s*chunked\s*$/i.test(valueText(buf, valueStart, valueEnd));
        }
        break;
    }
  }
  const headEnd = lf + 1;
  if (chunked) contentLength = -1;
  return new ResponseHead(
    minor,
    status,
    contentLength,
    chunked,
    !connectionClose && (minor === 1 || connectionKeepAlive),
    contentEncoding,
    setsCookies,
    headEnd - start,
    decodeHeadText(buf.subarray(start, headEnd)),
  );
}

function startsWithHttp(buf: Uint8Array, at: number): boolean {
  // "HTTP/"
  return buf[at] === 72 && buf[at + 1] === 84 && buf[at + 2] === 84 && buf[at + 3] === 80 &&
    buf[at + 4] === 47;
}

/**
 * The last head a connection received, for recognising a repeated one: servers answer the same
 * request with the same head (but for a `date` that changes once a second), and comparing the
 * bytes costs a fraction of parsing them again.
 */
export class HeadCache {
  /** The last head's bytes, in a buffer padded to whole 32-bit words. */
  #bytes: Uint8Array | null = null;
  #words: Int32Array | null = null;
  #head: ResponseHead | null = null;
  /** A word view of the last buffer parsed from (a connection keeps one, or grows it). */
  #buf: Uint8Array | null = null;
  #bufWords: Int32Array | null = null;

  /** Like {@link parseResponseHead}; returns the cached head when the bytes are the same. */
  parse(buf: Uint8Array, start: number, end: number): ResponseHead | null {
    const last = this.#bytes;
    if (last !== null && end - start >= this.#head!.headLength && this.#same(buf, start)) {
      return this.#head;
    }
    const head = parseResponseHead(buf, start, end);
    if (head !== null) {
      const length = head.headLength;
      const bytes = new Uint8Array((length + 3) & ~3);
      bytes.set(buf.subarray(start, start + length));
      this.#head = head;
      this.#bytes = bytes;
      this.#words = new Int32Array(bytes.buffer);
    }
    return head;
  }

  /** Whether `buf` at `start` holds the last head: 4 bytes at a time when aligned. */
  #same(buf: Uint8Array, start: number): boolean {
    const last = this.#bytes!;
    const n = this.#head!.headLength;
    let i = 0;
    if ((start & 3) === 0 && (buf.byteOffset & 3) === 0) {
      if (buf !== this.#buf) {
        this.#buf = buf;
        this.#bufWords = new Int32Array(buf.buffer, buf.byteOffset, buf.byteLength >> 2);
      }
      const words = this.#bufWords!;
      const lastWords = this.#words!;
      const from = start >> 2;
      const whole = n >> 2;
      let w = 0;
      while (w < whole && words[from + w] === lastWords[w]) w++;
      if (w < whole) return false;
      i = whole << 2;
    }
    while (i < n && buf[start + i] === last[i]) i++;
    return i === n;
  }
}

/** An incomplete head: null, unless it has grown past the limit. */
function incomplete(start: number, end: number): null {
  if (end - start > MAX_HEAD_BYTES) throw new ParseError("response head too large");
  return null;
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
