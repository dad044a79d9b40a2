// A response as the h1 engine returns it, and the framing rule for bodiless responses.
import { decodeContent } from "../content_decoding.ts";
import type { EngineResponse } from "../engine.ts";
import type { ResponseHead } from "./parser.ts";

const EMPTY = new Uint8Array(0);
/** Kept bodies up to this size are copied into a {@link BodySlab}. */
export const SLAB_BODY_BYTES = 1024;
const SLAB_BYTES = 64 * 1024;

/**
 * Where an engine copies small kept bodies out of its connections' buffers: one 64 KB buffer at
 * a time, a new one when it is full (an old one lives as long as a response that points into
 * it). A body of its own would cost an ArrayBuffer per response; most are never read.
 */
export class BodySlab {
  /** The current slab: read it after {@link copy}, which may have started a new one. */
  bytes = new Uint8Array(SLAB_BYTES);
  #used = 0;

  /** Copies `buf[start, start + length)` (at most {@link SLAB_BODY_BYTES}); returns its offset. */
  copy(buf: Uint8Array, start: number, length: number): number {
    if (this.#used + length > SLAB_BYTES) {
      this.bytes = new Uint8Array(SLAB_BYTES);
      this.#used = 0;
    }
    const offset = this.#used;
    const to = this.bytes;
    // A loop: faster than set(subarray(...)) for the few bytes of a small body.
    for (let i = 0; i < length; i++) to[offset + i] = buf[start + i];
    this.#used = offset + length;
    return offset;
  }
}

/** A response as the engine returns it: header strings are decoded only when asked for. */
export class H1Response implements EngineResponse {
  constructor(
    readonly head: ResponseHead,
    readonly bodyBytes: number,
    /**
     * The body as received: in pieces, or `bodyBytes` bytes of a slab from `offset`; null when
     * it was not kept.
     */
    readonly kept: Uint8Array[] | Uint8Array | null,
    readonly offset = 0,
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
    const kept = this.kept;
    if (kept === null) return null;
    const raw = kept instanceof Uint8Array
      ? kept.slice(this.offset, this.offset + this.bodyBytes)
      : kept.length === 0
      ? EMPTY
      : concat(kept, this.bodyBytes);
    return decodeContent(raw, this.head.contentEncoding);
  }
}

/** Responses that end with their head, whatever their headers say (RFC 9112 section 6.3). */
export function hasNoBody(method: string, status: number): boolean {
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
