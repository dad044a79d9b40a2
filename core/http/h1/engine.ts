// The h1 engine: HTTP/1.1 over Deno.connect/Deno.connectTls, per-user keep-alive connections,
// request heads written from prebuilt bytes, responses parsed in place. A broken connection is
// never retried: the request fails with its own text and the next one opens a new connection.
import { decodeContent } from "../content_decoding.ts";
import { describeError } from "../../errors.ts";
import {
  type EngineRequest,
  type EngineResponse,
  FailureText,
  type HttpEngine,
  HttpFailure,
  type HttpSession,
  TLS_HANDSHAKE,
} from "../engine.ts";
import {
  findTrailersEnd,
  HeadCache,
  MAX_HEAD_BYTES,
  parseChunkHeader,
  ParseError,
  type ResponseHead,
  skipChunkEnd,
} from "./parser.ts";
import { openTransport, type Transport } from "./transport.ts";

/** Read buffer of a connection: holds a whole typical response; heads may grow it. */
const READ_BUFFER_BYTES = 2 * 1024;
/** Reads of bodies that are counted, not kept, go through a buffer this large. */
const DISCARD_BUFFER_BYTES = 64 * 1024;
/** Bodies up to this size are sent in the same write as the head. */
const COALESCE_BODY_BYTES = 16 * 1024;

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** Options of the h1 engine. */
export interface H1EngineOptions {
  /** Skips certificate checks on https (node:tls with rejectUnauthorized false). */
  insecure?: boolean;
  /** The environment, for proxy variables (default: Deno.env, when permitted). */
  env?: (name: string) => string | undefined;
}

/** Thrown when an origin cannot be spoken to over HTTP/1.1 (an HTTP/2-only TLS server). */
export class H1Unsupported extends Error {
  constructor(readonly reason: string, options?: ErrorOptions) {
    super(reason, options);
    this.name = "H1Unsupported";
  }
}

/** One keep-alive connection and its read buffer. */
class H1Connection {
  buf = new Uint8Array(READ_BUFFER_BYTES);
  start = 0;
  end = 0;
  /** The read issued when the connection went idle; a request's response lands in it. */
  pending: Promise<number | null> | null = null;
  busy = false;
  /** The idle read saw the end of the stream, an error or unexpected bytes. */
  dead = false;
  timedOut = false;
  deadlineMs = Infinity;
  /** Recognises a head the same as the last one without parsing it again. */
  readonly heads = new HeadCache();

  constructor(readonly transport: Transport, readonly key: string) {}

  /** Reads at least one more byte into the buffer; the end of the stream fails the exchange. */
  async fill(): Promise<void> {
    let read = this.pending;
    this.pending = null;
    if (read === null) {
      if (this.start === this.end) {
        this.start = this.end = 0;
      } else if (this.end === this.buf.length) {
        if (this.start > 0) {
          this.buf.copyWithin(0, this.start, this.end);
          this.end -= this.start;
          this.start = 0;
        } else {
          if (this.buf.length >= 2 * MAX_HEAD_BYTES) throw new ParseError("line too long");
          const bigger = new Uint8Array(this.buf.length * 2);
          bigger.set(this.buf.subarray(0, this.end));
          this.buf = bigger;
        }
      }
      read = this.transport.read(this.buf.subarray(this.end));
    }
    const n = await read;
    if (n === null) throw new HttpFailure(FailureText.closed);
    this.end += n;
  }

  /** Reads exactly `length` bytes past the buffer into `into` (or a scratch buffer). */
  async readBody(length: number, into: Uint8Array | null): Promise<void> {
    let remaining = length;
    let at = 0;
    const scratch = into ? null : new Uint8Array(Math.min(length, DISCARD_BUFFER_BYTES));
    while (remaining > 0) {
      const n = into
        ? await this.transport.read(into.subarray(at, at + remaining))
        : await this.transport.read(scratch!.subarray(0, Math.min(remaining, scratch!.length)));
      if (n === null) throw new HttpFailure(FailureText.closed);
      remaining -= n;
      at += n;
    }
  }

  /** Goes idle: the next read is issued now, so a close by the server is seen before reuse. */
  idle(): void {
    this.busy = false;
    this.start = this.end = 0;
    const read = this.transport.read(this.buf);
    this.pending = read;
    read.then(this.#onIdleRead, this.#onIdleError);
  }

  // Bound once per connection, not per request.
  readonly #onIdleRead = (n: number | null) => {
    // While idle: the end of the stream, or bytes nobody asked for.
    if (!this.busy || n === null) this.dead = true;
  };
  readonly #onIdleError = () => {
    this.dead = true;
  };

  close(): void {
    this.dead = true;
    try {
      this.transport.close();
    } catch { /* already closed */ }
  }
}

/** A response as the engine returns it: header strings are decoded only when asked for. */
class H1Response implements EngineResponse {
  constructor(
    readonly head: ResponseHead,
    readonly bodyBytes: number,
    /** The body as received, in pieces; null when it was not kept. */
    readonly pieces: Uint8Array[] | null,
  ) {}
  get status(): number {
    return this.head.status;
  }
  get statusText(): string {
    return this.head.statusText;
  }
  get rawHeaders(): string[] {
    return this.head.rawHeaders;
  }
  get setsCookies(): boolean {
    return this.head.setsCookies;
  }
  body(): Uint8Array | null {
    const pieces = this.pieces;
    if (pieces === null) return null;
    const raw = pieces.length === 0 ? EMPTY : concat(pieces, this.bodyBytes);
    return decodeContent(raw, this.head.contentEncoding);
  }
}

/** Maps what went wrong on a connection to the failure texts fetch's failures map to. */
function failureOf(error: unknown, conn: H1Connection | null, timeoutMs: number): HttpFailure {
  if (conn?.timedOut) return new HttpFailure(FailureText.timeout(timeoutMs), { cause: error });
  if (error instanceof HttpFailure) return error;
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return new HttpFailure(FailureText.timeout(timeoutMs), { cause: error });
  }
  if (error instanceof ParseError) return new HttpFailure(FailureText.malformed, { cause: error });
  const code = (error as { code?: string })?.code;
  if (error instanceof Deno.errors.ConnectionRefused || code === "ECONNREFUSED") {
    return new HttpFailure(FailureText.refused, { cause: error });
  }
  if (
    error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionAborted || code === "ECONNRESET" || code === "EPIPE"
  ) {
    return new HttpFailure(FailureText.reset, { cause: error });
  }
  if (error instanceof Deno.errors.UnexpectedEof) {
    return new HttpFailure(FailureText.closed, { cause: error });
  }
  const text = describeError(error);
  if (/certificate/i.test(text)) return new HttpFailure(FailureText.tls, { cause: error });
  if (TLS_HANDSHAKE.test(text)) return new HttpFailure(FailureText.handshake, { cause: error });
  if (/failed to lookup|name or service not known|dns/i.test(text)) {
    return new HttpFailure(FailureText.dns, { cause: error });
  }
  return new HttpFailure(text, { cause: error });
}

/** Responses that end with their head, whatever their headers say (RFC 9112 section 6.3). */
function hasNoBody(method: string, status: number): boolean {
  return method === "HEAD" || status === 204 || status === 304 || status < 200;
}

/** Concatenates kept body pieces. */
function concat(pieces: Uint8Array[], length: number): Uint8Array {
  if (pieces.length === 1) return pieces[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

/** The proxy variable that applies to `url`, if any (as fetch reads them). */
function proxyFor(url: URL, env: (name: string) => string | undefined): string | undefined {
  const names = url.protocol === "https:"
    ? ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    : ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];
  const proxy = names.map(env).find((v) => v);
  if (!proxy) return undefined;
  const noProxy = env("NO_PROXY") ?? env("no_proxy") ?? "";
  const host = url.hostname.toLowerCase();
  for (const entry of noProxy.split(",").map((e) => e.trim().toLowerCase())) {
    if (entry === "*") return undefined;
    if (!entry) continue;
    const bare = entry.replace(/^\*?\./, "").replace(/:\d+$/, "");
    if (host === bare || host.endsWith(`.${bare}`)) return undefined;
  }
  return proxy;
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** Creates the h1 engine of one load worker. */
export function createH1Engine(options: H1EngineOptions = {}): HttpEngine {
  const insecure = options.insecure ?? false;
  const env = options.env ?? readEnv;
  /** Request heads by method, then by the (resolver-cached) URL object they go to. */
  const heads = new Map<string, WeakMap<URL, Uint8Array>>();
  const supported = new Map<string, boolean>();

  function buildHead(request: EngineRequest): Uint8Array {
    const { url, headers, method } = request;
    let text = `${method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
    if (headers["accept"] === undefined) text += "accept: */*\r\n";
    if (headers["accept-language"] === undefined) text += "accept-language: *\r\n";
    if (headers["accept-encoding"] === undefined) text += "accept-encoding: gzip,br\r\n";
    for (const name in headers) {
      const value = headers[name];
      if (/[\r\n\0]/.test(name) || /[\r\n\0]/.test(value)) {
        throw new TypeError(`Invalid header: ${JSON.stringify(name)}`);
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

  /** The bytes to write first: the head, with the body when it is small. */
  function requestBytes(request: EngineRequest): Uint8Array {
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
  }

  return {
    name: "h1",
    supports(url: URL): boolean {
      const key = url.protocol + url.host;
      let ok = supported.get(key);
      if (ok === undefined) {
        ok = (url.protocol === "http:" || url.protocol === "https:") &&
          proxyFor(url, env) === undefined;
        supported.set(key, ok);
      }
      return ok;
    },
    createSession(signal: AbortSignal): HttpSession {
      return new H1Session(signal, insecure, requestBytes);
    },
  };
}

/** One virtual user's keep-alive connections, by origin. */
class H1Session implements HttpSession {
  readonly #signal: AbortSignal;
  readonly #insecure: boolean;
  readonly #requestBytes: (request: EngineRequest) => Uint8Array;
  readonly #idle = new Map<string, H1Connection[]>();
  readonly #busy = new Set<H1Connection>();
  #timer: number | null = null;
  #timerAtMs = Infinity;
  #lastUrl: URL | null = null;
  #lastKey = "";

  constructor(
    signal: AbortSignal,
    insecure: boolean,
    requestBytes: (request: EngineRequest) => Uint8Array,
  ) {
    this.#signal = signal;
    this.#insecure = insecure;
    this.#requestBytes = requestBytes;
    signal.addEventListener("abort", () => this.close(), { once: true });
  }

  async send(request: EngineRequest): Promise<EngineResponse> {
    const url = request.url;
    let key = this.#lastKey;
    if (url !== this.#lastUrl) {
      key = this.#lastKey = url.protocol + url.host;
      this.#lastUrl = url;
    }
    let conn: H1Connection | null = null;
    try {
      const bytes = this.#requestBytes(request);
      conn = this.#takeIdle(key) ?? await this.#connect(key, request);
      conn.busy = true;
      this.#watch(conn, request.deadlineMs);
      const transport = conn.transport;
      const written = await transport.write(bytes);
      if (written < bytes.length) await this.#writeAll(transport, bytes.subarray(written));
      const body = request.body;
      if (body !== null && body.length > COALESCE_BODY_BYTES) await this.#writeAll(transport, body);
      // The response's first bytes usually land in the read issued when the connection went
      // idle, and hold the whole head and body: then it is read here without another await.
      const read = conn.pending;
      if (read !== null) {
        conn.pending = null;
        const n = await read;
        if (n === null) throw new HttpFailure(FailureText.closed);
        conn.end += n;
        const head = conn.heads.parse(conn.buf, conn.start, conn.end);
        if (
          head !== null && head.status >= 200 &&
          (hasNoBody(request.method, head.status) ||
            head.contentLength >= 0 &&
              conn.start + head.headLength + head.contentLength <= conn.end)
        ) {
          return this.#finishInBuffer(conn, request, head);
        }
      }
      return await this.#readResponse(conn, request);
    } catch (error) {
      if (conn) {
        this.#busy.delete(conn);
        conn.close();
      }
      if (error instanceof H1Unsupported) throw error;
      if (this.#signal.aborted) throw this.#signal.reason ?? error;
      throw failureOf(error, conn, request.timeoutMs);
    } finally {
      if (conn) this.#unwatch(conn);
    }
  }

  close(): void {
    for (const conns of this.#idle.values()) for (const c of conns) c.close();
    this.#idle.clear();
    for (const c of this.#busy) c.close();
    this.#busy.clear();
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #takeIdle(key: string): H1Connection | null {
    const conns = this.#idle.get(key);
    if (conns === undefined) return null;
    let conn = conns.pop();
    while (conn !== undefined && conn.dead) {
      conn.close();
      conn = conns.pop();
    }
    return conn ?? null;
  }

  async #connect(key: string, request: EngineRequest): Promise<H1Connection> {
    if (this.#signal.aborted) throw this.#signal.reason;
    const url = request.url;
    const tls = url.protocol === "https:";
    const remainingMs = Math.max(0, request.deadlineMs - performance.now());
    const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    let transport: Transport;
    // A timer cleared once connected, not AbortSignal.timeout: that would hold memory per
    // connection until the whole timeout ran out.
    const connecting = new AbortController();
    const timer = setTimeout(
      () => connecting.abort(new DOMException("connect timed out", "TimeoutError")),
      remainingMs,
    );
    const onStop = () => connecting.abort(this.#signal.reason);
    this.#signal.addEventListener("abort", onStop, { once: true });
    try {
      transport = await openTransport({
        hostname,
        port: url.port ? Number(url.port) : tls ? 443 : 80,
        tls,
        insecure: this.#insecure,
        signal: connecting.signal,
      });
    } catch (error) {
      // Whatever closing the half-open connection threw, the reason is the timeout or the stop.
      if (connecting.signal.aborted) throw connecting.signal.reason;
      if (/no ?application ?protocol/i.test(describeError(error))) {
        throw new H1Unsupported("the server speaks only HTTP/2", { cause: error });
      }
      throw error;
    } finally {
      clearTimeout(timer);
      this.#signal.removeEventListener("abort", onStop);
    }
    // Idle connections must not keep a finished run alive; a busy one's deadline timer does.
    transport.unref();
    return new H1Connection(transport, key);
  }

  async #writeAll(transport: Transport, bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) written += await transport.write(bytes.subarray(written));
  }

  /** A final (>= 200) response whose head and body are all in the buffer: no await needed. */
  #finishInBuffer(conn: H1Connection, request: EngineRequest, head: ResponseHead): EngineResponse {
    conn.start += head.headLength;
    const pieces: Uint8Array[] | null = request.keepBody ? [] : null;
    let bodyBytes = 0;
    if (!hasNoBody(request.method, head.status)) {
      bodyBytes = head.contentLength;
      if (pieces !== null && bodyBytes > 0) {
        pieces.push(conn.buf.slice(conn.start, conn.start + bodyBytes));
      }
      conn.start += bodyBytes;
    }
    this.#release(conn, request, head.keepAlive);
    return new H1Response(head, bodyBytes, pieces);
  }

  /** The exchange is over: the connection goes idle for the next request, or is closed. */
  #release(conn: H1Connection, request: EngineRequest, reusable: boolean): void {
    if (conn.start !== conn.end) reusable = false; // bytes past the response: not ours to guess
    if (reusable && request.headers["connection"] !== undefined) {
      reusable = request.headers["connection"].toLowerCase() !== "close";
    }
    this.#busy.delete(conn);
    if (reusable && !this.#signal.aborted) {
      conn.idle();
      let idle = this.#idle.get(conn.key);
      if (idle === undefined) this.#idle.set(conn.key, idle = []);
      idle.push(conn);
    } else {
      conn.close();
    }
  }

  async #readResponse(conn: H1Connection, request: EngineRequest): Promise<EngineResponse> {
    let head: ResponseHead | null;
    while (true) {
      head = conn.heads.parse(conn.buf, conn.start, conn.end);
      if (head === null) {
        await conn.fill();
        continue;
      }
      conn.start += head.headLength;
      // 1xx are interim (101 would switch protocols: the head is the answer).
      if (head.status < 200 && head.status !== 101) continue;
      break;
    }
    const keep = request.keepBody;
    const pieces: Uint8Array[] = [];
    let bodyBytes = 0;
    // After a 101 the connection no longer speaks HTTP/1.1.
    let reusable = head.keepAlive && head.status !== 101;
    if (hasNoBody(request.method, head.status)) {
      // Nothing to read.
    } else if (head.chunked) {
      bodyBytes = await this.#readChunked(conn, keep ? pieces : null);
    } else if (head.contentLength >= 0) {
      const length = head.contentLength;
      const inBuffer = Math.min(length, conn.end - conn.start);
      const body = keep && length > 0 ? new Uint8Array(length) : null;
      if (body) body.set(conn.buf.subarray(conn.start, conn.start + inBuffer));
      conn.start += inBuffer;
      if (inBuffer < length) {
        await conn.readBody(length - inBuffer, body?.subarray(inBuffer) ?? null);
      }
      if (body) pieces.push(body);
      bodyBytes = length;
    } else {
      // No length: the body runs to the end of the stream.
      reusable = false;
      bodyBytes = await this.#readToEnd(conn, keep ? pieces : null);
    }
    this.#release(conn, request, reusable);
    return new H1Response(head, bodyBytes, keep ? pieces : null);
  }

  async #readChunked(conn: H1Connection, pieces: Uint8Array[] | null): Promise<number> {
    let total = 0;
    while (true) {
      let chunk = parseChunkHeader(conn.buf, conn.start, conn.end);
      while (chunk === null) {
        await conn.fill();
        chunk = parseChunkHeader(conn.buf, conn.start, conn.end);
      }
      conn.start = chunk.dataStart;
      if (chunk.size === 0) {
        let end = findTrailersEnd(conn.buf, conn.start, conn.end);
        while (end < 0) {
          await conn.fill();
          end = findTrailersEnd(conn.buf, conn.start, conn.end);
        }
        conn.start = end;
        return total;
      }
      let remaining = chunk.size;
      total += remaining;
      while (remaining > 0) {
        if (conn.start === conn.end) await conn.fill();
        const take = Math.min(remaining, conn.end - conn.start);
        if (pieces) pieces.push(conn.buf.slice(conn.start, conn.start + take));
        conn.start += take;
        remaining -= take;
      }
      let next = skipChunkEnd(conn.buf, conn.start, conn.end);
      while (next === null) {
        await conn.fill();
        next = skipChunkEnd(conn.buf, conn.start, conn.end);
      }
      conn.start = next;
    }
  }

  async #readToEnd(conn: H1Connection, pieces: Uint8Array[] | null): Promise<number> {
    let total = conn.end - conn.start;
    if (pieces && total > 0) pieces.push(conn.buf.slice(conn.start, conn.end));
    conn.start = conn.end = 0;
    const buf = new Uint8Array(DISCARD_BUFFER_BYTES);
    while (true) {
      const n = await conn.transport.read(buf);
      if (n === null) return total;
      total += n;
      if (pieces) pieces.push(buf.slice(0, n));
    }
  }

  /** Arms the user's one deadline timer: it fires at most once per timeout, not per request. */
  #watch(conn: H1Connection, deadlineMs: number): void {
    conn.deadlineMs = deadlineMs;
    conn.timedOut = false;
    this.#busy.add(conn);
    if (this.#timer !== null && this.#timerAtMs <= deadlineMs) {
      Deno.refTimer(this.#timer);
      return;
    }
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#arm(deadlineMs);
  }

  #unwatch(conn: H1Connection): void {
    this.#busy.delete(conn);
    if (this.#busy.size === 0 && this.#timer !== null) Deno.unrefTimer(this.#timer);
  }

  #arm(atMs: number): void {
    this.#timerAtMs = atMs;
    // Deno's timer id is a number (the node typings in scope say otherwise).
    this.#timer = setTimeout(
      () => this.#expire(),
      Math.max(0, atMs - performance.now()),
    ) as unknown as number;
  }

  #expire(): void {
    this.#timer = null;
    this.#timerAtMs = Infinity;
    const nowMs = performance.now();
    let next = Infinity;
    for (const conn of this.#busy) {
      if (conn.deadlineMs <= nowMs) {
        conn.timedOut = true;
        conn.close();
      } else if (conn.deadlineMs < next) {
        next = conn.deadlineMs;
      }
    }
    if (next < Infinity) this.#arm(next);
  }
}
