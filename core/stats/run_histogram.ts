// The latencies of one series over the whole run, on the coordinator: the counts of
// createHistogram()'s HDR layout kept sparse, the indices that have a count in order and their
// counts. A few KB for a typical spread of latencies, as small as hdr-histogram-js's packed
// arrays, but merged into and read in one pass over what is there: a packed array finds each
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
const NO_INDICES = new Int32Array(0);
const NO_COUNTS = new Float64Array(0);

/** The fields of hdr-histogram-js 3.0.1's flat histograms read here (see histogram.ts). */
interface FlatCounts {
  _counts?: Int32Array;
}

/** HDR counts of one series over the run, sparse; see the file's head. */
export class RunHistogram {
  /** The indices that have a count, ascending. */
  #indices: Int32Array = NO_INDICES;
  /** Their counts (exact to 2^53: a run may put more than 2^31 requests in one bucket). */
  #counts: Float64Array = NO_COUNTS;
  #totalCount = 0;

  get totalCount(): number {
    return this.#totalCount;
  }

  /** Distinct indices held (what the memory grows with: 12 bytes each). */
  get size(): number {
    return this.#indices.length;
  }

  /** Adds the counts of `histogram`, of {@link createHistogram}'s settings (flat or packed). */
  add(histogram: Histogram): void {
    if (histogram.totalCount === 0) return;
    const theirs = nonZeroCounts(histogram);
    const mine = this.#indices;
    const myCounts = this.#counts;
    const indices = new Int32Array(mine.length + theirs.length);
    const counts = new Float64Array(indices.length);
    let a = 0;
    let b = 0;
    let n = 0;
    while (a < mine.length || b < theirs.length) {
      const ia = a < mine.length ? mine[a] : Infinity;
      const ib = b < theirs.length ? theirs.indices[b] : Infinity;
      if (ia <= ib) {
        indices[n] = ia;
        counts[n] = myCounts[a++];
        if (ia === ib) counts[n] += theirs.counts[b++];
      } else {
        indices[n] = ib;
        counts[n] = theirs.counts[b++];
      }
      n++;
    }
    this.#indices = n === indices.length ? indices : indices.slice(0, n);
    this.#counts = n === counts.length ? counts : counts.slice(0, n);
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

/** A histogram's counts that are not zero, in index order (into buffers reused call to call). */
function nonZeroCounts(
  histogram: Histogram,
): { indices: Int32Array; counts: Float64Array; length: number } {
  const h = histogram as unknown as CountsIndex & FlatCounts;
  const flat = h._counts;
  let length = 0;
  if (flat !== undefined && flat.length === h.countsArrayLength) {
    for (let i = 0; i < flat.length; i++) {
      if (flat[i] !== 0) length = scratch.put(length, i, flat[i]);
    }
  } else {
    for (let i = 0; i < h.countsArrayLength; i++) {
      const count = h.getCountAtIndex(i);
      if (count !== 0) length = scratch.put(length, i, count);
    }
  }
  return { indices: scratch.indices, counts: scratch.counts, length };
}

/** Where {@link nonZeroCounts} collects; grown to the layout's length on first use. */
const scratch = {
  indices: new Int32Array(0),
  counts: new Float64Array(0),
  put(at: number, index: number, count: number): number {
    if (at === this.indices.length) {
      const size = Math.max(1024, this.indices.length * 2);
      const indices = new Int32Array(size);
      indices.set(this.indices);
      const counts = new Float64Array(size);
      counts.set(this.counts);
      this.indices = indices;
      this.counts = counts;
    }
    this.indices[at] = index;
    this.counts[at] = count;
    return at + 1;
  },
};
