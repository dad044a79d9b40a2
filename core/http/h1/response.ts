// A response as the h1 engine returns it, and the framing rule for bodiless responses.
import { decodeContent } from "../content_decoding.ts";
import type { EngineResponse } from "../engine.ts";
import type { ResponseHead } from "./parser.ts";

const EMPTY = new Uint8Array(0);

/** A response as the engine returns it: header strings are decoded only when asked for. */
export class H1Response implements EngineResponse {
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
