// The percentile spectrum of an HDR histogram, as HdrHistogram's own plots draw it: latency
// against 1 / (1 - percentile) on a log axis, so 90 %, 99 %, 99.9 % ... are evenly apart and the
// tail that averages hide gets as much room as the median.
import { type Histogram, percentilesUs } from "../../core/stats/histogram.ts";

/** Points per decade of 1 / (1 - p): 0 %, 36.9 %, 60.2 %, 74.9 %, 84.2 %, 90 %, ... */
export const TICKS_PER_DECADE = 5;
/** The spectrum ends by 99.99999 %: past that, no run has the samples to say anything. */
const MAX_DECADES = 7;

/**
 * The spectrum's x values, 1 / (1 - p), from 1 (0 %) to the first past `count` samples (where
 * the percentile is the maximum), at least to 100 (99 %) and at most 10^7 (99.99999 %).
 */
export function spectrumGrid(count: number): number[] {
  const past = Math.floor(Math.log10(Math.max(count, 1)) * TICKS_PER_DECADE) + 1;
  const last = Math.min(MAX_DECADES * TICKS_PER_DECADE, Math.max(2 * TICKS_PER_DECADE, past));
  return Array.from({ length: last + 1 }, (_, k) => 10 ** (k / TICKS_PER_DECADE));
}

/** The percentile (0–100) of a spectrum x value: 10 → 90, 1000 → 99.9. */
export function percentileOfX(x: number): number {
  return 100 * (1 - 1 / x);
}

/**
 * Latencies in ms at each x of `grid`, bounded by `maxMs` (HDR reports the top of a value's
 * bucket; the exact maximum bounds what is true). Past its samples' resolution a histogram's
 * percentile is its maximum, so a smaller histogram's line ends flat at its maximum.
 */
export function spectrumMs(histogram: Histogram, grid: readonly number[], maxMs: number): number[] {
  if (histogram.totalCount === 0) return grid.map(() => 0);
  return percentilesUs(histogram, grid.map(percentileOfX)).map((us) => Math.min(us / 1000, maxMs));
}
