// Exemplars: sampled requests kept beside a stats cell, so a latency bucket can point at the
// trace of a request in it. Bounded: a cell keeps at most one per slot of latency (two slots per
// power of two of microseconds), the slowest seen, per interval, on workers and when merged.

/** A sampled request of a cell: its latency and the trace and span it was sent in. */
export interface Exemplar {
  /** Latency in integer µs. */
  valueUs: number;
  traceId: string;
  spanId: string;
  /** When the request ended, in Unix ms. */
  timeMs: number;
}

/** Latency slots: 2 per power of two, from 1 µs up to 2^31 µs (about 36 minutes). */
export const EXEMPLAR_SLOTS = 64;

/** The slot of a latency: `2·floor(log2 µs)`, plus 1 in the upper half of that power of two. */
export function exemplarSlot(valueUs: number): number {
  if (valueUs < 2) return 0;
  const v = Math.min(valueUs, 0x7fffffff) | 0;
  const log2 = 31 - Math.clz32(v);
  const upper = (v - (1 << log2)) * 2 >= (1 << log2) ? 1 : 0;
  return Math.min(EXEMPLAR_SLOTS - 1, 2 * log2 + upper);
}

/** A cell's exemplars of one interval: the slowest sampled request of each slot. */
export class ExemplarSlots {
  readonly #slots = new Map<number, Exemplar>();

  /** Offers a sampled request; kept when it is the slowest of its slot so far. */
  offer(valueUs: number, traceId: string, spanId: string, timeMs: number): void {
    const slot = exemplarSlot(valueUs);
    const kept = this.#slots.get(slot);
    if (kept !== undefined && kept.valueUs >= valueUs) return;
    this.#slots.set(slot, { valueUs, traceId, spanId, timeMs });
  }

  /** The exemplars kept since the last call (undefined for none), and starts afresh. */
  take(): Exemplar[] | undefined {
    if (this.#slots.size === 0) return undefined;
    const taken = [...this.#slots.values()];
    this.#slots.clear();
    return taken;
  }
}

/** Merges `from` into `into` (null: none yet), keeping the slowest of each slot. */
export function mergeExemplars(into: Exemplar[] | null, from: readonly Exemplar[]): Exemplar[] {
  const bySlot = new Map<number, Exemplar>();
  for (const e of into ?? []) bySlot.set(exemplarSlot(e.valueUs), e);
  for (const e of from) {
    const slot = exemplarSlot(e.valueUs);
    const kept = bySlot.get(slot);
    if (kept === undefined || kept.valueUs < e.valueUs) bySlot.set(slot, e);
  }
  return [...bySlot.values()];
}
