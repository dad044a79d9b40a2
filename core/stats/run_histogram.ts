// The latencies of one series over the whole run, on the coordinator: the counts of
// createHistogram()'s HDR layout kept sparse, the indices that have a count in order and their
// counts. A few KB for a typical spread of latencies (6 bytes a distinct value), as small as
// hdr-histogram-js's packed arrays, but merged into and read in one pass over what is there: a packed array finds each
// index through a walk of its tree, which cost the coordinator 10–20 ms a series each interval
// (the interval's counts added, then the run's percentiles for the console), about 4 % of the
// one core a single-worker run shares with its load worker.
import {
  type CountsIndex,
  createHistogram,
  type Histogram,
  percentilesOfCounts,
} from "./histogram.ts";

/** The index math of every histogram here (packed: a few hundred bytes, kept for the process). */
const LAYOUT = createHistogram(true) as unknown as CountsIndex;
const NO_INDICES = new Uint16Array(0);
const NO_COUNTS = new Uint32Array(0);

/** The fields of hdr-histogram-js 3.0.1's flat histograms read here (see histogram.ts). */
interface FlatCounts {
  _counts?: Int32Array;
}

/** Counts up to this fit the 4 bytes a count is kept in; past it they take 8. */
const MAX_NARROW_COUNT = 0xffff_ffff;

/** HDR counts of one series over the run, sparse; see the file's head. */
export class RunHistogram {
  /** The indices that have a count, ascending (the layout has 23 552: two bytes each). */
  #indices: Uint16Array = NO_INDICES;
  /** Their counts: four bytes each, eight once one passes 2^32 (exact to 2^53). */
  #counts: Uint32Array | Float64Array = NO_COUNTS;
  #totalCount = 0;

  get totalCount(): number {
    return this.#totalCount;
  }

  /** Distinct indices held (what the memory grows with: 6 bytes each, 10 with wide counts). */
  get size(): number {
    return this.#indices.length;
  }

  /** Adds the counts of `histogram`, of {@link createHistogram}'s settings (flat or packed). */
  add(histogram: Histogram): void {
    if (histogram.totalCount === 0) return;
    const theirs = nonZeroCounts(histogram);
    const mine = this.#indices;
    const myCounts = this.#counts;
    // Merged into the scratch's tail, past the source's entries, then copied out at its size.
    const at = theirs.length;
    const room = at + mine.length + theirs.length;
    scratch.ensure(room);
    const indices = scratch.indices;
    const counts = scratch.counts;
    let a = 0;
    let b = 0;
    let n = at;
    let widest = 0;
    while (a < mine.length || b < theirs.length) {
      const ia = a < mine.length ? mine[a] : Infinity;
      const ib = b < theirs.length ? indices[b] : Infinity;
      let count: number;
      if (ia <= ib) {
        indices[n] = ia;
        count = myCounts[a++];
        if (ia === ib) count += counts[b++];
      } else {
        indices[n] = ib;
        count = counts[b++];
      }
      counts[n++] = count;
      if (count > widest) widest = count;
    }
    this.#indices = Uint16Array.from(indices.subarray(at, n));
    const merged = counts.subarray(at, n);
    this.#counts = widest > MAX_NARROW_COUNT || myCounts instanceof Float64Array
      ? Float64Array.from(merged)
      : Uint32Array.from(merged);
    this.#totalCount += histogram.totalCount;
  }

  /** The values at `percentiles` (0–100) in µs, as {@link percentilesOfCounts} gives them. */
  percentilesUs(percentiles: readonly number[]): number[] {
    const indices = this.#indices;
    const counts = this.#counts;
    return percentilesOfCounts(this.#totalCount, percentiles, LAYOUT, (visit) => {
      for (let i = 0; i < indices.length; i++) if (!visit(indices[i], counts[i])) return;
    });
  }

  /** The same counts as an hdr-histogram-js histogram (packed), for the summary and reports. */
  toHistogram(): Histogram {
    const histogram = createHistogram(true);
    const indices = this.#indices;
    for (let i = 0; i < indices.length; i++) {
      histogram.recordValueWithCount(LAYOUT.valueFromIndex(indices[i]), this.#counts[i]);
    }
    return histogram;
  }
}

/**
 * A histogram's counts that are not zero, in index order, into the scratch's first entries;
 * returns how many.
 */
function nonZeroCounts(histogram: Histogram): { length: number } {
  const h = histogram as unknown as CountsIndex & FlatCounts;
  const flat = h._counts;
  scratch.ensure(LAYOUT.countsArrayLength);
  const indices = scratch.indices;
  const counts = scratch.counts;
  let length = 0;
  if (flat !== undefined && flat.length === h.countsArrayLength) {
    for (let i = 0; i < flat.length; i++) {
      if (flat[i] !== 0) {
        indices[length] = i;
        counts[length++] = flat[i];
      }
    }
  } else {
    for (let i = 0; i < h.countsArrayLength; i++) {
      const count = h.getCountAtIndex(i);
      if (count !== 0) {
        indices[length] = i;
        counts[length++] = count;
      }
    }
  }
  return { length };
}

/** Where {@link RunHistogram.add} collects and merges: grown as needed, reused call to call. */
const scratch = {
  indices: new Uint16Array(0),
  counts: new Float64Array(0),
  ensure(size: number): void {
    if (this.indices.length >= size) return;
    const indices = new Uint16Array(size);
    indices.set(this.indices);
    const counts = new Float64Array(size);
    counts.set(this.counts);
    this.indices = indices;
    this.counts = counts;
  },
};
