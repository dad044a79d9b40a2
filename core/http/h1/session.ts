// One virtual user's h1 session: its keep-alive connections by origin, and the exchange itself
// (write the request, read the response: in the buffer at once when it can, else by
// content-length, chunks or to the end of the stream).
import { describeError } from "../../errors.ts";
import {
  type EngineRequest,
  type EngineResponse,
  EngineUnsupported,
  type ExchangeEnd,
  FailureText,
  HttpFailure,
  type HttpSession,
  IDEMPOTENT_METHODS,
} from "../engine.ts";
import { failureOf } from "../failures.ts";
import { DISCARD_BUFFER_BYTES, H1Connection } from "./connection.ts";
import type { Deadlines } from "./deadlines.ts";
import { findTrailersEnd, parseChunkHeader, type ResponseHead, skipChunkEnd } from "./parser.ts";
import { COALESCE_BODY_BYTES, requestBytes, requestHead } from "./request_head.ts";
import { type BodySlab, H1Response, hasNoBody, SLAB_BODY_BYTES } from "./response.ts";
import type { Transport, TransportTarget } from "./transport.ts";

/** What every session of one h1 engine shares. */
export interface H1SessionConfig {
  /** Skips certificate checks on https. */
  readonly insecure: boolean;
  /** Opens a connection (`openTransport`; a fake one in tests). */
  readonly open: (target: TransportTarget) => Promise<Transport>;
  /** Where small kept bodies are copied. */
  readonly slab: BodySlab;
  /** The deadlines of every session's requests. */
  readonly deadlines: Deadlines;
}

/** The kept body of a response without one. */
const NO_PIECES: Uint8Array[] = [];

/** One virtual user's keep-alive connections, by origin. */
export class H1Session implements HttpSession {
  readonly #signal: AbortSignal;
  readonly #config: H1SessionConfig;
  readonly #idle = new Map<string, H1Connection[]>();
  /** Every open connection, idle or busy: closed with the session. */
  readonly #conns = new Set<H1Connection>();
  /** Closed (the user ended or was aborted): a finished exchange does not leave a connection. */
  #closed = false;
  #lastUrl: URL | null = null;
  #lastKey = "";

  constructor(signal: AbortSignal, config: H1SessionConfig) {
    this.#signal = signal;
    this.#config = config;
    signal.addEventListener("abort", () => this.close(), { once: true });
  }

  /**
   * Sends `request` on an idle connection of its origin, else (or when `fresh`) a new one, and
   * hands its end to `end` (see {@link HttpSession.send}).
   */
  async send<T, R extends EngineRequest>(
    request: R,
    end: ExchangeEnd<T, R>,
    fresh = false,
  ): Promise<T> {
    const url = request.url;
    let key = this.#lastKey;
    if (url !== this.#lastUrl) {
      key = this.#lastKey = url.protocol + url.host;
      this.#lastUrl = url;
    }
    let conn: H1Connection | null = null;
    let reused = false;
    let response: EngineResponse | null = null;
    try {
      const head = requestHead(request);
      conn = fresh ? null : this.#takeIdle(key);
      reused = conn !== null;
      conn ??= await this.#connect(key, request);
      const bytes = requestBytes(request, head, conn.out);
      conn.busy = true;
      this.#config.deadlines.watch(conn, request.deadlineMs);
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
          response = this.#finishInBuffer(conn, request, head);
        }
      }
      response ??= await this.#readResponse(conn, request);
    } catch (error) {
      if (conn) this.#drop(conn);
      if (error instanceof EngineUnsupported) return end.failed(request, error);
      if (this.#signal.aborted) return end.failed(request, this.#signal.reason ?? error);
      if (conn?.timedOut) {
        const timeout = FailureText.timeout(request.timeoutMs);
        return end.failed(request, new HttpFailure(timeout, { cause: error }));
      }
      const failure = failureOf(error, request.timeoutMs);
      // The server closed the idle connection as the request went out (an idle timeout without
      // `Connection: close`), before any byte of an answer: the request never reached it. An
      // idempotent one is sent once more on a fresh connection (RFC 9110 §9.2.2), and counted.
      if (
        reused && conn!.end === 0 && IDEMPOTENT_METHODS.has(request.method) &&
        (failure.text === FailureText.closed || failure.text === FailureText.reset)
      ) {
        request.retries++;
        this.#config.deadlines.unwatch(conn!);
        return this.send(request, end, true);
      }
      return end.failed(request, failure);
    } finally {
      if (conn) this.#config.deadlines.unwatch(conn);
    }
    // Outside the try: what `end` does with the response is not a failure of the exchange.
    return end.answered(request, response);
  }

  close(): void {
    this.#closed = true;
    for (const c of this.#conns) c.close();
    this.#conns.clear();
    this.#idle.clear();
  }

  #drop(conn: H1Connection): void {
    this.#conns.delete(conn);
    conn.close();
  }

  #takeIdle(key: string): H1Connection | null {
    const conns = this.#idle.get(key);
    if (conns === undefined) return null;
    let conn = conns.pop();
    while (conn !== undefined && conn.dead) {
      this.#drop(conn);
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
      transport = await this.#config.open({
        hostname,
        port: url.port ? Number(url.port) : tls ? 443 : 80,
        tls,
        insecure: this.#config.insecure,
        signal: connecting.signal,
      });
    } catch (error) {
      // Whatever closing the half-open connection threw, the reason is the timeout or the stop.
      if (connecting.signal.aborted) throw connecting.signal.reason;
      if (/no ?application ?protocol/i.test(describeError(error))) {
        throw new EngineUnsupported("the server speaks only HTTP/2", { cause: error });
      }
      throw error;
    } finally {
      clearTimeout(timer);
      this.#signal.removeEventListener("abort", onStop);
    }
    // The connection stays referenced, idle or not: a read on an unreferenced Deno.Conn costs one
    // op more (about 9 % of the throughput against nginx). Every session is closed when its
    // user ends, so an idle connection does not keep a finished run alive.
    const conn = new H1Connection(transport, key);
    this.#conns.add(conn);
    return conn;
  }

  async #writeAll(transport: Transport, bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) written += await transport.write(bytes.subarray(written));
  }

  /** A final (>= 200) response whose head and body are all in the buffer: no await needed. */
  #finishInBuffer(conn: H1Connection, request: EngineRequest, head: ResponseHead): EngineResponse {
    conn.start += head.headLength;
    let kept: Uint8Array[] | Uint8Array | null = request.keepBody ? NO_PIECES : null;
    let offset = 0;
    let bodyBytes = 0;
    if (!hasNoBody(request.method, head.status)) {
      bodyBytes = head.contentLength;
      if (kept !== null && bodyBytes > 0) {
        const slab = this.#config.slab;
        if (bodyBytes <= SLAB_BODY_BYTES) {
          offset = slab.copy(conn.buf, conn.start, bodyBytes);
          kept = slab.bytes;
        } else {
          kept = [conn.buf.slice(conn.start, conn.start + bodyBytes)];
        }
      }
      conn.start += bodyBytes;
    }
    this.#release(conn, request, head.keepAlive);
    return new H1Response(head, bodyBytes, kept, offset);
  }

  /** The exchange is over: the connection goes idle for the next request, or is closed. */
  #release(conn: H1Connection, request: EngineRequest, reusable: boolean): void {
    if (conn.start !== conn.end) reusable = false; // bytes past the response: not ours to guess
    if (reusable && request.headers["connection"] !== undefined) {
      reusable = request.headers["connection"].toLowerCase() !== "close";
    }
    if (reusable && !this.#closed) {
      conn.idle();
      let idle = this.#idle.get(conn.key);
      if (idle === undefined) this.#idle.set(conn.key, idle = []);
      idle.push(conn);
    } else {
      this.#drop(conn);
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
}
