// W3C Trace Context (https://www.w3.org/TR/trace-context/): random trace and span ids, the
// `traceparent` header Stampede sends, and checks of `traceparent` and `tracestate` values.

const HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/** The ASCII codes of the hex digits. */
const HEX_DIGITS = new TextEncoder().encode("0123456789abcdef");

/** Random 32-bit words taken at a time: one `getRandomValues` call serves 256 span ids. */
const POOL_WORDS = 512;

/** `word` (an unsigned 32-bit number) as 8 lower-case hex digits. */
function hexWord(word: number): string {
  return HEX[word >>> 24] + HEX[(word >>> 16) & 255] + HEX[(word >>> 8) & 255] + HEX[word & 255];
}

/** Writes `word` as 8 lower-case hex digits (ASCII) into `out` at `at`. */
function writeHexWord(out: Uint8Array, at: number, word: number): void {
  for (let shift = 28, i = at; shift >= 0; shift -= 4, i++) {
    out[i] = HEX_DIGITS[(word >>> shift) & 15];
  }
}

/**
 * A trace id: 16 random bytes, kept as four 32-bit words in the order of its hex form (the words
 * OpenTelemetry's ratio sampler reads from the hex); the hex string is made when first asked for.
 */
export class TraceId {
  #hex: string | null = null;

  constructor(
    readonly w0: number,
    readonly w1: number,
    readonly w2: number,
    readonly w3: number,
  ) {}

  /** 32 lower-case hex digits. */
  get hex(): string {
    return this.#hex ??= hexWord(this.w0) + hexWord(this.w1) + hexWord(this.w2) +
      hexWord(this.w3);
  }
}

/** A span id's 8 bytes (two 32-bit words) as 16 lower-case hex digits. */
export function spanHex(hi: number, lo: number): string {
  return hexWord(hi) + hexWord(lo);
}

/**
 * Random trace and span ids from the platform's cryptographic source, drawn in pools so an id
 * costs a few array reads; never all zero (an invalid id).
 */
export class RandomIds {
  readonly #pool = new Uint32Array(POOL_WORDS);
  #at = POOL_WORDS;

  /** A random unsigned 32-bit word. */
  word(): number {
    if (this.#at === POOL_WORDS) {
      crypto.getRandomValues(this.#pool);
      this.#at = 0;
    }
    return this.#pool[this.#at++];
  }

  /** A span id as its two words, written to `out` (no object per id), never both zero. */
  spanWords(out: { spanHi: number; spanLo: number }): void {
    do {
      out.spanHi = this.word();
      out.spanLo = this.word();
    } while (out.spanHi === 0 && out.spanLo === 0);
  }

  /** A span id: 16 hex digits, never all zero. */
  spanId(): string {
    const words = { spanHi: 0, spanLo: 0 };
    this.spanWords(words);
    return spanHex(words.spanHi, words.spanLo);
  }

  /** A trace id, never all zero. */
  traceId(): TraceId {
    for (;;) {
      const id = new TraceId(this.word(), this.word(), this.word(), this.word());
      if ((id.w0 | id.w1 | id.w2 | id.w3) !== 0) return id;
    }
  }
}

/** The run's `tracestate`, as sent with every traced request, with its header line encoded once. */
export class TraceState {
  /** `tracestate: VALUE\r\n`. */
  readonly line: Uint8Array;
  constructor(readonly value: string) {
    this.line = new TextEncoder().encode(`tracestate: ${value}\r\n`);
  }
}

/** `traceparent: 00-` */
const PARENT_PREFIX = new TextEncoder().encode("traceparent: 00-");
/** `traceparent: 00-{32}-{16}-0X\r\n` */
const PARENT_LINE_LENGTH = PARENT_PREFIX.length + 32 + 1 + 16 + 3 + 2;

/**
 * A hop's W3C trace context as the engine sends it: the trace, the hop's own span id (two words),
 * whether the trace is sampled, the run's `tracestate`. The h1 engine writes its header lines as
 * bytes ({@link writeLines}); `traceparent` is made as a string only when read (the fetch engine).
 */
export class TraceContext {
  constructor(
    readonly traceId: TraceId,
    readonly spanHi: number,
    readonly spanLo: number,
    readonly sampled: boolean,
    readonly state: TraceState | null,
  ) {}

  /** The `traceparent` value: version 00, the trace, the hop's span, the sampled flag. */
  get traceparent(): string {
    return formatTraceparent(this.traceId.hex, spanHex(this.spanHi, this.spanLo), this.sampled);
  }

  /** The `tracestate` value, or null. */
  get tracestate(): string | null {
    return this.state?.value ?? null;
  }

  /** Bytes {@link writeLines} writes. */
  get linesLength(): number {
    return PARENT_LINE_LENGTH + (this.state?.line.length ?? 0);
  }

  /** Writes `traceparent: …\r\n` (and `tracestate: …\r\n`) as ASCII into `out` from `at`. */
  writeLines(out: Uint8Array, at: number): void {
    out.set(PARENT_PREFIX, at);
    let i = at + PARENT_PREFIX.length;
    const id = this.traceId;
    writeHexWord(out, i, id.w0);
    writeHexWord(out, i + 8, id.w1);
    writeHexWord(out, i + 16, id.w2);
    writeHexWord(out, i + 24, id.w3);
    out[i + 32] = 45; // -
    writeHexWord(out, i + 33, this.spanHi);
    writeHexWord(out, i + 41, this.spanLo);
    i += 49;
    out[i] = 45; // -
    out[i + 1] = 48; // 0
    out[i + 2] = this.sampled ? 49 : 48;
    out[i + 3] = 13;
    out[i + 4] = 10;
    if (this.state !== null) out.set(this.state.line, i + 5);
  }
}

/** The `traceparent` value of a request: version 00, its trace, its own span, the flag. */
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return "00-" + traceId + "-" + spanId + (sampled ? "-01" : "-00");
}

const ZERO_SPAN_ID = "0000000000000000";
const ZERO_TRACE_ID = "00000000000000000000000000000000";

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
