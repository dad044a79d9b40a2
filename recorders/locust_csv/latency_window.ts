// Latencies by endpoint over the last 10 s and over the whole run, built from the interval cells,
// for Locust's eleven percentile columns: the run's own views carry only the percentiles of
// --percentiles. Memory per tracked key is two histograms, as in the coordinator's aggregator:
// the window's histogram gets each interval added and subtracted again (from its compressed
// form) when the interval leaves the window.
import {
  createHistogram,
  decodeHistogram,
  encodeHistogram,
  type Histogram,
  percentilesUs,
} from "../../core/stats/histogram.ts";
import { endpointKey, type IntervalCell, TOTAL_NAME } from "../../core/stats/types.ts";

/** The key of the total (every endpoint but the `TASK` rows, which have no latency). */
export const TOTAL_KEY = endpointKey("", TOTAL_NAME);

/** Locust's window for current percentiles (`CURRENT_RESPONSE_TIME_PERCENTILE_WINDOW`), in ms. */
export const LOCUST_WINDOW_MS = 10_000;

interface Series {
  window: Histogram;
  cumulative: Histogram;
}

interface Interval {
  atMs: number;
  /** Per key, the interval's latencies in compressed form, subtracted at expiry. */
  parts: Map<string, string>;
}

/** Options of a {@link LatencyWindow}. */
export interface LatencyWindowOptions {
  /** Keep every endpoint, not only the total (Locust's `--csv-full-history`). */
  perEndpoint: boolean;
  /** Length of the window in ms (default 10 s, as Locust's). */
  windowMs?: number;
}

/** Latency histograms of the last `windowMs` and of the whole run, per endpoint and in total. */
export class LatencyWindow {
  readonly #perEndpoint: boolean;
  readonly #windowMs: number;
  readonly #series = new Map<string, Series>();
  readonly #ring: Interval[] = [];

  constructor(options: LatencyWindowOptions) {
    this.#perEndpoint = options.perEndpoint;
    this.#windowMs = options.windowMs ?? LOCUST_WINDOW_MS;
  }

  #seriesOf(key: string): Series {
    let series = this.#series.get(key);
    if (!series) {
      series = { window: createHistogram(), cumulative: createHistogram() };
      this.#series.set(key, series);
    }
    return series;
  }

  /** Adds one interval's cells, closed at `atMs` of run time, and expires what left the window. */
  add(atMs: number, cells: readonly IntervalCell[]): void {
    const merged = new Map<string, Histogram>();
    const mergeInto = (key: string, histogram: Histogram) => {
      const into = merged.get(key);
      if (into) into.add(histogram);
      else merged.set(key, histogramCopy(histogram));
    };
    for (const cell of cells) {
      if (cell.histogram === null) continue;
      mergeInto(TOTAL_KEY, cell.histogram);
      if (this.#perEndpoint) mergeInto(endpointKey(cell.method, cell.name), cell.histogram);
    }
    const parts = new Map<string, string>();
    for (const [key, histogram] of merged) {
      const series = this.#seriesOf(key);
      series.window.add(histogram);
      series.cumulative.add(histogram);
      parts.set(key, encodeHistogram(histogram));
    }
    this.#ring.push({ atMs, parts });
    while (this.#ring.length > 0 && atMs - this.#ring[0].atMs >= this.#windowMs) {
      for (const [key, encoded] of this.#ring.shift()!.parts) {
        this.#series.get(key)!.window.subtract(decodeHistogram(encoded));
      }
    }
  }

  /** Latencies in ms at `percentiles` over the window, or null when it holds none. */
  windowMs(key: string, percentiles: readonly number[]): number[] | null {
    return valuesMs(this.#series.get(key)?.window, percentiles);
  }

  /** Latencies in ms at `percentiles` since the start, or null when there were none. */
  cumulativeMs(key: string, percentiles: readonly number[]): number[] | null {
    return valuesMs(this.#series.get(key)?.cumulative, percentiles);
  }
}

function histogramCopy(histogram: Histogram): Histogram {
  const copy = createHistogram();
  copy.add(histogram);
  return copy;
}

/** Values of a histogram at percentiles, in ms; null for a missing or empty one. */
export function valuesMs(
  histogram: Histogram | undefined,
  percentiles: readonly number[],
): number[] | null {
  if (!histogram || histogram.totalCount === 0) return null;
  return percentilesUs(histogram, percentiles).map((us) => us / 1000);
}
