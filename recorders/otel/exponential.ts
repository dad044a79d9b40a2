// Base-2 exponential histogram buckets (OTLP's ExponentialHistogram) computed from a set of
// distinct values with counts, as an HDR histogram yields them.

/** The finest scale OTel SDKs use; coarser scales are derived from it by shifting indexes. */
export const MAX_SCALE = 20;
/** Default most buckets per data point in OTel SDKs. */
export const MAX_BUCKETS = 160;

/** Buckets of positive values: `bucketCounts[i]` counts values in (base^(offset+i), base^(offset+i+1)]. */
export interface ExponentialBuckets {
  scale: number;
  offset: number;
  bucketCounts: number[];
}

/**
 * Index of the bucket holding `value` (> 0) at {@link MAX_SCALE}: buckets are
 * (2^(i/2^scale), 2^((i+1)/2^scale)], so an exact power of two closes its bucket.
 */
export function indexAtMaxScale(value: number): number {
  const log2 = Math.log2(value);
  const exact = Number.isInteger(log2) && 2 ** log2 === value;
  const scaled = log2 * 2 ** MAX_SCALE;
  return exact ? scaled - 1 : Math.ceil(scaled) - 1;
}

/**
 * The buckets, at the finest scale <= {@link MAX_SCALE} whose index range fits `maxBuckets`, of
 * `values` (distinct values > 0 with their counts, in any order). Null when there are none.
 */
export function exponentialBuckets(
  values: Iterable<[value: number, count: number]>,
  maxBuckets = MAX_BUCKETS,
): ExponentialBuckets | null {
  const indexed: [number, number][] = [];
  let low = Infinity;
  let high = -Infinity;
  for (const [value, count] of values) {
    if (!(value > 0) || count <= 0) continue;
    const index = indexAtMaxScale(value);
    indexed.push([index, count]);
    if (index < low) low = index;
    if (index > high) high = index;
  }
  if (indexed.length === 0) return null;
  // Bucket boundaries nest: an index at scale s - k is the index at scale s shifted right by k.
  let shift = 0;
  while ((high >> shift) - (low >> shift) + 1 > maxBuckets) shift++;
  const offset = low >> shift;
  const bucketCounts = new Array<number>((high >> shift) - offset + 1).fill(0);
  for (const [index, count] of indexed) bucketCounts[(index >> shift) - offset] += count;
  return { scale: MAX_SCALE - shift, offset, bucketCounts };
}
