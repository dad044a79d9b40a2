// Iterations (one task run by one user) started and dropped, by user kind: counted on each load
// worker per interval, summed on the coordinator. An iteration is dropped when an arrival-rate
// schedule had it due and no user of the pool could start it in time.

/** One user kind's iterations. */
export interface IterationCounts {
  kind: string;
  started: number;
  dropped: number;
}

/** Started and dropped iterations by kind. */
export class IterationTally {
  readonly #byKind = new Map<string, IterationCounts>();

  #entry(kind: string): IterationCounts {
    let entry = this.#byKind.get(kind);
    if (entry === undefined) this.#byKind.set(kind, entry = { kind, started: 0, dropped: 0 });
    return entry;
  }

  /**
   * The counts of `kind`, to be counted into directly (`started++`) by a caller that counts
   * there again and again: the same object for as long as the tally lives.
   */
  of(kind: string): IterationCounts {
    return this.#entry(kind);
  }

  /** Counts `count` iterations of `kind` dropped. */
  dropped(kind: string, count = 1): void {
    this.#entry(kind).dropped += count;
  }

  /** Adds counts taken elsewhere (a worker's delta). */
  add(counts: readonly IterationCounts[]): void {
    for (const c of counts) {
      const entry = this.#entry(c.kind);
      entry.started += c.started;
      entry.dropped += c.dropped;
    }
  }

  /** The counts so far by kind. */
  results(): IterationCounts[] {
    return [...this.#byKind.values()].map((c) => ({ ...c }));
  }

  /** The counts since the last call (kinds with none left out); the counts start again. */
  take(): IterationCounts[] {
    const taken: IterationCounts[] = [];
    for (const entry of this.#byKind.values()) {
      if (entry.started === 0 && entry.dropped === 0) continue;
      taken.push({ ...entry });
      entry.started = 0;
      entry.dropped = 0;
    }
    return taken;
  }
}

/** The totals over every kind. */
export function iterationTotals(
  counts: readonly IterationCounts[],
): { started: number; dropped: number } {
  let started = 0;
  let dropped = 0;
  for (const c of counts) {
    started += c.started;
    dropped += c.dropped;
  }
  return { started, dropped };
}
