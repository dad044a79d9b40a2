import * as hdr from "npm:hdr-histogram-js@3.0.1";

/** An HDR latency histogram of integer microseconds. */
export type Histogram = hdr.Histogram;

/** Highest latency a histogram tracks exactly: one hour, in microseconds. */
export const HIGHEST_TRACKABLE_US = 3_600_000_000;

/**
 * A histogram from 1 µs to 1 h with 3 significant digits. Its counts are a flat 32-bit array
 * (~95 KB, the fastest to record into: a load worker's cells), or `packed` (only the counts
 * that are not zero: a few KB for a typical latency spread, for histograms kept for the run).
 */
export function createHistogram(packed = false): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_US,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
    ...(packed ? { bitBucketSize: "packed" as const } : {}),
  });
}

/** The fields of hdr-histogram-js 3.0.1's flat (typed array) histograms that a record touches. */
interface FlatHistogram {
  _counts?: Int32Array;
  _totalCount: number;
  maxValue: number;
  minNonZeroValue: number;
  unitMagnitude: number;
  subBucketHalfCountMagnitude: number;
}

/** log2 of half a sub-bucket count at 3 significant digits (2048 sub-buckets). */
const SUB_BUCKET_HALF_MAGNITUDE = 10;

/**
 * Records one latency in microseconds, clamped to the trackable range. An integer into a flat
 * histogram of {@link createHistogram}'s settings (a worker's cells, once per request) finds its
 * count with a shift where `recordValue` takes a log2, two powers and a division (a tenth of
 * the JavaScript per request in the h1 path; histogram_test.ts checks they agree).
 */
export function recordLatencyUs(histogram: Histogram, latencyUs: number): void {
  const value = latencyUs < 1
    ? 1
    : latencyUs > HIGHEST_TRACKABLE_US
    ? HIGHEST_TRACKABLE_US
    : latencyUs;
  const h = histogram as unknown as FlatHistogram;
  const counts = h._counts;
  if (
    counts === undefined || h.unitMagnitude !== 0 ||
    h.subBucketHalfCountMagnitude !== SUB_BUCKET_HALF_MAGNITUDE || value % 1 !== 0
  ) {
    histogram.recordValue(value);
    return;
  }
  // The bucket is floor(log2(value)) - 10, at least 0; the index within it, value >> bucket.
  const bucket = 31 - SUB_BUCKET_HALF_MAGNITUDE - Math.clz32(value);
  counts[bucket <= 0 ? value : (bucket << SUB_BUCKET_HALF_MAGNITUDE) + (value >>> bucket)]++;
  if (value > h.maxValue) h.maxValue = value;
  if (value < h.minNonZeroValue) h.minNonZeroValue = value;
  h._totalCount++;
}

/** The portable compressed form (`HISTF...`), as HdrHistogram in any language reads it. */
export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

/**
 * Decodes the compressed base64 form into a histogram that merges with ours. It decodes into a
 * flat array: short-lived (merged, then dropped), and ten times faster to decode and to read
 * than a packed one (0.2 ms against 6 ms a cell: a coordinator merging hundreds of endpoints'
 * cells each interval would fall seconds behind).
 */
export function decodeHistogram(encoded: string): Histogram {
  const decoded = hdr.decodeFromCompressedBase64(encoded);
  // Our workers' histograms decode with our settings: no copy needed. Others are copied into
  // ours, so every merge lines up.
  if (
    decoded.highestTrackableValue === HIGHEST_TRACKABLE_US &&
    decoded.numberOfSignificantValueDigits === 3 && !decoded.autoResize
  ) {
    return decoded;
  }
  const histogram = createHistogram();
  histogram.add(decoded);
  return histogram;
}

/** Latency at percentile `p` (0–100) in milliseconds; 0 for an empty histogram. */
export function percentileMs(histogram: Histogram, p: number): number {
  return histogram.totalCount === 0 ? 0 : histogram.getValueAtPercentile(p) / 1000;
}

interface RecordedValues {
  reset(): void;
  hasNext(): boolean;
  next(): { valueIteratedTo: number; countAtValueIteratedTo: number };
}

/**
 * Calls `visit` for every distinct recorded value (the highest value equivalent to it within
 * the histogram's 3-digit resolution) with its count, lowest first.
 */
export function forEachRecordedValue(
  histogram: Histogram,
  visit: (valueUs: number, count: number) => void,
): void {
  const values = (histogram as unknown as { recordedValuesIterator: RecordedValues })
    .recordedValuesIterator;
  values.reset();
  while (values.hasNext()) {
    const step = values.next();
    visit(step.valueIteratedTo, step.countAtValueIteratedTo);
  }
}

/**
 * Counts per explicit bucket, as OTel and Prometheus histograms want them: `counts[i]` holds
 * values `<= boundsUs[i]` and `> boundsUs[i-1]`; the last entry holds values above every bound.
 * A value is placed by the bottom of its HDR sub-bucket (a value equal to a bound lands at or
 * below it), so placement is exact to the histogram's resolution (0.1 %).
 */
export function bucketCounts(histogram: Histogram, boundsUs: readonly number[]): number[] {
  const counts = new Array<number>(boundsUs.length + 1).fill(0);
  const lowest = histogram as unknown as { lowestEquivalentValue(v: number): number };
  let bucket = 0;
  forEachRecordedValue(histogram, (valueUs, count) => {
    const bottomUs = lowest.lowestEquivalentValue(valueUs);
    while (bucket < boundsUs.length && bottomUs > boundsUs[bucket]) bucket++;
    counts[bucket] += count;
  });
  return counts;
}

/** hdr-histogram-js's index math, which every histogram of {@link createHistogram} shares. */
export interface CountsIndex {
  countsArrayLength: number;
  getCountAtIndex(index: number): number;
  valueFromIndex(index: number): number;
  highestEquivalentValue(value: number): number;
  lowestEquivalentValue(value: number): number;
}

/** Visits counts that are not zero in index order, until `visit` returns false. */
export type CountWalk = (visit: (index: number, count: number) => boolean) => void;

/**
 * The values at several percentiles (0–100) in µs, in one pass over the counts: the same values
 * `getValueAtPercentile` gives one at a time (each of those calls walks the counts again).
 */
export function percentilesUs(histogram: Histogram, percentiles: readonly number[]): number[] {
  const h = histogram as unknown as CountsIndex;
  return percentilesOfCounts(histogram.totalCount, percentiles, h, (visit) => {
    for (let i = 0; i < h.countsArrayLength; i++) {
      const count = h.getCountAtIndex(i);
      if (count !== 0 && !visit(i, count)) return;
    }
  });
}

/**
 * {@link percentilesUs} over `total` counts that `walk` visits, in the index layout of `layout`
 * (a histogram of {@link createHistogram}'s settings).
 */
export function percentilesOfCounts(
  total: number,
  percentiles: readonly number[],
  layout: CountsIndex,
  walk: CountWalk,
): number[] {
  const out = new Array<number>(percentiles.length).fill(0);
  if (total === 0) return out;
  // The count each percentile needs, as getValueAtPercentile computes it, smallest first.
  const wanted = percentiles.map((p, at) => {
    const fp = (Math.min(p, 100) / 100) * total;
    const ulp = fp > 0 ? 2 ** (Math.floor(Math.log2(fp)) - 52) : 0;
    return { at, p, count: Math.max(Math.ceil(fp - ulp), 1) };
  }).sort((a, b) => a.count - b.count);
  let next = 0;
  let sum = 0;
  walk((i, count) => {
    sum += count;
    while (next < wanted.length && sum >= wanted[next].count) {
      const value = layout.valueFromIndex(i);
      const { at, p } = wanted[next++];
      out[at] = p === 0
        ? layout.lowestEquivalentValue(value)
        : layout.highestEquivalentValue(value);
    }
    return next < wanted.length;
  });
  return out;
}
