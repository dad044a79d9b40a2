// W3C Trace Context (https://www.w3.org/TR/trace-context/): random trace and span ids, the
// `traceparent` header Stampede sends, and checks of `traceparent` and `tracestate` values.

const HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/** Random bytes taken at a time: one `getRandomValues` call serves 256 span ids. */
const POOL_BYTES = 2048;

const ZERO_SPAN_ID = "0000000000000000";
const ZERO_TRACE_ID = "00000000000000000000000000000000";

/**
 * Random trace ids (16 bytes) and span ids (8 bytes) as lower-case hex, from the platform's
 * cryptographic source, drawn in pools so an id costs a few table lookups.
 */
export class RandomIds {
  readonly #pool = new Uint8Array(POOL_BYTES);
  #at = POOL_BYTES;

  #take(bytes: number): number {
    if (this.#at + bytes > POOL_BYTES) {
      crypto.getRandomValues(this.#pool);
      this.#at = 0;
    }
    const at = this.#at;
    this.#at += bytes;
    return at;
  }

  #hex8(at: number): string {
    const p = this.#pool;
    return HEX[p[at]] + HEX[p[at + 1]] + HEX[p[at + 2]] + HEX[p[at + 3]] + HEX[p[at + 4]] +
      HEX[p[at + 5]] + HEX[p[at + 6]] + HEX[p[at + 7]];
  }

  /** A span id: 16 hex digits, never all zero (an invalid id). */
  spanId(): string {
    const id = this.#hex8(this.#take(8));
    return id === ZERO_SPAN_ID ? this.spanId() : id;
  }

  /** A trace id: 32 hex digits, never all zero. */
  traceId(): string {
    const at = this.#take(16);
    const id = this.#hex8(at) + this.#hex8(at + 8);
    return id === ZERO_TRACE_ID ? this.traceId() : id;
  }
}

/** The `traceparent` value of a request: version 00, its trace, its own span, the flag. */
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return "00-" + traceId + "-" + spanId + (sampled ? "-01" : "-00");
}

/** A `traceparent` value taken apart. */
export interface Traceparent {
  version: string;
  traceId: string;
  /** The span id of the caller: the parent of what the receiver does. */
  parentId: string;
  /** The flags byte; bit 0 is `sampled`. */
  flags: number;
  sampled: boolean;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** Parses a `traceparent` header as a receiver must; null when it is not valid. */
export function parseTraceparent(value: string | null | undefined): Traceparent | null {
  const m = value === null || value === undefined ? null : TRACEPARENT.exec(value.trim());
  if (m === null) return null;
  const [, version, traceId, parentId, flagsHex, rest] = m;
  if (version === "ff" || (version === "00" && rest !== undefined)) return null;
  if (traceId === ZERO_TRACE_ID || parentId === ZERO_SPAN_ID) return null;
  const flags = parseInt(flagsHex, 16);
  return { version, traceId, parentId, flags, sampled: (flags & 1) === 1 };
}

const SIMPLE_KEY = /^[a-z][a-z0-9_\-*/]{0,255}$/;
const TENANT_KEY = /^[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13}$/;
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * Checks a `tracestate` value (`vendor=value,other@tenant=value`, at most 32 members, keys
 * unique); returns it without blank members, or throws a TypeError saying what is wrong.
 */
export function checkTracestate(value: string): string {
  const members = value.split(",").map((m) => m.trim()).filter((m) => m !== "");
  if (members.length > 32) {
    throw new TypeError(`it has ${members.length} members; W3C allows at most 32`);
  }
  const keys = new Set<string>();
  for (const member of members) {
    const at = member.indexOf("=");
    const key = at < 0 ? member : member.slice(0, at);
    if (at < 0 || !(SIMPLE_KEY.test(key) || TENANT_KEY.test(key))) {
      throw new TypeError(
        `"${member}" is not key=value with a lower-case key such as vendor or tenant@vendor`,
      );
    }
    if (!VALUE.test(member.slice(at + 1))) {
      throw new TypeError(`the value of "${key}" is empty or has a comma, "=" or a non-ASCII byte`);
    }
    if (keys.has(key)) throw new TypeError(`the key "${key}" appears twice`);
    keys.add(key);
  }
  return members.join(",");
}
