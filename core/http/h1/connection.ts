// One keep-alive HTTP/1.1 connection of the h1 engine: its transport and read buffer. It issues
// its next read as soon as it goes idle, so a close by the server is seen before it is reused.
import { FailureText, HttpFailure } from "../engine.ts";
import { HeadCache, MAX_HEAD_BYTES, ParseError } from "./parser.ts";
import { WriteBuffer } from "./request_head.ts";
import type { Transport } from "./transport.ts";

/** Read buffer of a connection: holds a whole typical response; heads may grow it. */
const READ_BUFFER_BYTES = 2 * 1024;
/** Reads of bodies that are counted, not kept, go through a buffer this large. */
export const DISCARD_BUFFER_BYTES = 64 * 1024;

/** One keep-alive connection and its read buffer. */
export class H1Connection {
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
  /** Where the engine's deadlines keep it while it is busy; -1 when not busy. */
  watchIndex = -1;
  /** Recognises a head the same as the last one without parsing it again. */
  readonly heads = new HeadCache();
  /** Where a request with more than a kept head is composed for its write. */
  readonly out = new WriteBuffer();

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
