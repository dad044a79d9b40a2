// Merging on the coordinator: every worker's deltas into cumulative stats, a rolling window and
// the interval's cells, exact because HDR histograms add (and subtract) without loss. Memory per
// endpoint is two histograms (the run's and the window's), whatever the window's length; the
// window's histogram is kept by adding each interval and subtracting it again when it expires.
import { CheckCounts, type CheckResult } from "./checks.ts";
import { type IterationCounts, IterationTally } from "./iterations.ts";
import type { CellDelta, StatsDelta } from "./delta.ts";
import { mergeExemplars } from "./exemplars.ts";
import { createHistogram, decodeHistogram, type Histogram, percentilesUs } from "./histogram.ts";
import { RunHistogram } from "./run_histogram.ts";
import { Counts, Interval, Series } from "./series.ts";
import {
  DEFAULT_PERCENTILES,
  type EndpointHistogram,
  endpointKey,
  type EndpointStats,
  type FailureStats,
  type IntervalCell,
  type StatsView,
  TOTAL_NAME,
} from "./types.ts";

/** Distinct request names per method before the rest are counted under {@link OTHER_NAME}. */
export const DEFAULT_MAX_NAMES = 500;
/** The row that counts the requests of names past the limit. */
export const OTHER_NAME = "(other)";
/** Distinct failure texts per endpoint before the rest are counted under {@link OTHER_FAILURES}. */
export const MAX_FAILURE_TEXTS = 100;
/** The failure text that counts the failures of texts past the limit. */
export const OTHER_FAILURES = "(other failure texts)";

function byName(a: EndpointStats, b: EndpointStats): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.method < b.method ? -1 : 1;
}

/** Options of a {@link StatsAggregator}. */
export interface StatsAggregatorOptions {
  percentiles?: readonly number[];
  /** The rolling window's length (default 10 s). */
  windowMs?: number;
  /** Distinct names per method kept as rows (default {@link DEFAULT_MAX_NAMES}). */
  maxNames?: number;
  /** Called once per method when its names pass the limit. */
  onNameLimit?: (method: string) => void;
  /** Called once when check names pass theirs (checks.ts). */
  onCheckLimit?: () => void;
  now?: () => number;
}

/**
 * Merges the deltas of every load worker into cumulative stats and a rolling window
 * (`windowMs`, default 10 s) of closed intervals, on the coordinator.
 */
export class StatsAggregator {
  readonly #percentiles: readonly number[];
  readonly #windowMs: number;
  readonly #maxNames: number;
  readonly #onNameLimit: (method: string) => void;
  readonly #now: () => number;
  readonly #series = new Map<string, Series>();
  readonly #namesByMethod = new Map<string, number>();
  readonly #total = new Series("", TOTAL_NAME);
  readonly #errors = new Map<Series, Map<string, number>>();
  readonly #checks: CheckCounts;
  readonly #iterations = new IterationTally();
  /** This interval's iterations, by kind. */
  #intervalIterations = new IterationTally();
  #current: Interval;
  #ring: Interval[] = [];

  constructor(options: StatsAggregatorOptions = {}) {
    this.#percentiles = options.percentiles ?? DEFAULT_PERCENTILES;
    this.#windowMs = options.windowMs ?? 10_000;
    this.#maxNames = options.maxNames ?? DEFAULT_MAX_NAMES;
    this.#onNameLimit = options.onNameLimit ?? (() => {});
    this.#now = options.now ?? (() => performance.now());
    this.#checks = new CheckCounts(options.onCheckLimit);
    this.#current = new Interval(this.#now());
  }

  /** The series of (method, name); names past the limit share the method's `(other)` row. */
  #seriesFor(method: string, name: string): Series {
    let series = this.#series.get(endpointKey(method, name));
    if (series) return series;
    const names = this.#namesByMethod.get(method) ?? 0;
    if (names >= this.#maxNames && name !== OTHER_NAME) return this.#seriesFor(method, OTHER_NAME);
    // The method's first (other) row: its names passed the limit, here or on a load worker.
    if (name === OTHER_NAME) this.#onNameLimit(method);
    this.#namesByMethod.set(method, names + 1);
    this.#series.set(endpointKey(method, name), series = new Series(method, name));
    return series;
  }

  /** Merges one worker's delta into the current interval. */
  add(delta: StatsDelta): void {
    const interval = this.#current;
    const total = interval.partOf(this.#total);
    for (const e of delta.endpoints) {
      const series = this.#seriesFor(e.method, e.name);
      const part = interval.partOf(series);
      part.counts.aborted += e.aborted;
      total.counts.aborted += e.aborted;
      part.counts.retries += e.retries ?? 0;
      total.counts.retries += e.retries ?? 0;
      for (const c of e.cells) {
        part.counts.addCell(c);
        total.counts.addCell(c);
        this.#addCell(interval, series, c);
        if (c.histogram !== null) part.encoded.push(c.histogram);
      }
      if (e.errors.length > 0) this.#addErrors(series, e.errors);
    }
    if (delta.checks.length > 0) this.#checks.add(delta.checks);
    if (delta.iterations !== undefined) {
      this.#iterations.add(delta.iterations);
      this.#intervalIterations.add(delta.iterations);
    }
  }

  /** Iterations started and dropped since the start, by user kind. */
  iterations(): IterationCounts[] {
    return this.#iterations.results();
  }

  /** The iterations of the interval {@link closeInterval} closed last, by kind. */
  get lastIntervalIterations(): IterationCounts[] {
    return this.#lastIntervalIterations;
  }
  #lastIntervalIterations: IterationCounts[] = [];

  /** Every named check since the start, in the order names were first seen. */
  checks(): CheckResult[] {
    return this.#checks.results();
  }

  #addCell(interval: Interval, series: Series, c: CellDelta): void {
    const key = `${endpointKey(series.method, series.name)}\u0000${c.status}\u0000${c.failed}`;
    let cell = interval.cells.get(key);
    if (!cell) {
      cell = {
        method: series.method,
        name: series.name,
        status: c.status,
        failed: c.failed,
        requests: 0,
        bytes: 0,
        histogram: null,
        sumUs: 0,
        minUs: 0,
        maxUs: 0,
      };
      interval.cells.set(key, cell);
    }
    cell.requests += c.requests;
    cell.bytes += c.bytes;
    if (c.correctedHistogram !== undefined) {
      const corrected = decodeHistogram(c.correctedHistogram);
      if (cell.correctedHistogram) cell.correctedHistogram.add(corrected);
      else cell.correctedHistogram = corrected;
      cell.correctedMaxUs = Math.max(cell.correctedMaxUs ?? 0, c.correctedMaxUs ?? 0);
    }
    if (c.exemplars !== undefined) {
      cell.exemplars = mergeExemplars(cell.exemplars ?? null, c.exemplars);
    }
    if (c.histogram === null) return;
    cell.minUs = cell.sumUs === 0 && cell.histogram === null
      ? c.minUs
      : Math.min(cell.minUs, c.minUs);
    cell.maxUs = Math.max(cell.maxUs, c.maxUs);
    cell.sumUs += c.sumUs;
    const histogram = decodeHistogram(c.histogram);
    if (cell.histogram) cell.histogram.add(histogram);
    else cell.histogram = histogram;
  }

  #addErrors(series: Series, errors: [string, number][]): void {
    let texts = this.#errors.get(series);
    if (!texts) this.#errors.set(series, texts = new Map());
    for (const [text, n] of errors) {
      const kept = texts.has(text) || texts.size < MAX_FAILURE_TEXTS ? text : OTHER_FAILURES;
      texts.set(kept, (texts.get(kept) ?? 0) + n);
    }
  }

  /**
   * Closes the current interval: folds it into the cumulative stats and the window, starts a
   * new one, and returns the closed interval's cells.
   */
  closeInterval(): IntervalCell[] {
    const closed = this.#current;
    const nowMs = this.#now();
    closed.endMs = nowMs;
    const cells = [...closed.cells.values()];
    for (const cell of cells) {
      const series = this.#series.get(endpointKey(cell.method, cell.name))!;
      if (cell.correctedHistogram) {
        series.addCorrected(cell.correctedHistogram, cell.correctedMaxUs ?? 0);
        this.#total.addCorrected(cell.correctedHistogram, cell.correctedMaxUs ?? 0);
      }
      if (cell.histogram === null) continue;
      series.addLatencies(cell.histogram);
      this.#total.addLatencies(cell.histogram);
    }
    for (const [series, part] of closed.parts) series.cumulative.add(part.counts);
    closed.cells.clear(); // the recorders hold them now; the window keeps counts only
    this.#ring.push(closed);
    while (this.#ring.length > 1 && nowMs - this.#ring[1].startMs >= this.#windowMs) {
      this.#expire(this.#ring.shift()!);
    }
    this.#current = new Interval(nowMs);
    this.#lastIntervalIterations = this.#intervalIterations.take();
    return cells;
  }

  /** Takes an interval that left the window out of the window's histograms. */
  #expire(interval: Interval): void {
    for (const [series, part] of interval.parts) {
      for (const encoded of part.encoded) {
        const histogram = decodeHistogram(encoded);
        series.windowHistogram?.subtract(histogram);
        this.#total.windowHistogram?.subtract(histogram);
      }
      if (series.windowHistogram?.totalCount === 0) series.windowHistogram = null;
    }
  }

  /** Everything since the start, over `durationMs` of run time. */
  cumulative(durationMs: number): StatsView {
    const view = (series: Series) => {
      series.cachedPercentilesMs ??= this.#percentilesMs(series.cumulativeHistogram);
      const stats = this.#view(series, series.cumulative, series.cachedPercentilesMs, durationMs);
      if (series.correctedHistogram === null) return stats;
      series.cachedCorrectedMs ??= this.#percentilesMs(series.correctedHistogram);
      const maxMs = series.correctedMaxUs / 1000;
      return {
        ...stats,
        correctedPercentilesMs: Object.fromEntries(
          Object.entries(series.cachedCorrectedMs).map(([p, ms]) => [p, Math.min(maxMs, ms)]),
        ),
        correctedMaxMs: maxMs,
      };
    };
    const endpoints: EndpointStats[] = [];
    for (const series of this.#series.values()) {
      if (series.cumulative.requests + series.cumulative.aborted > 0) endpoints.push(view(series));
    }
    return { durationMs, total: view(this.#total), endpoints: endpoints.sort(byName) };
  }

  /** The rolling window: the closed intervals of the last `windowMs`. */
  window(): StatsView {
    const ring = this.#ring;
    const durationMs = ring.length > 0 ? ring[ring.length - 1].endMs - ring[0].startMs : 0;
    const counts = new Map<Series, Counts>();
    for (const interval of ring) {
      for (const [series, part] of interval.parts) {
        let sum = counts.get(series);
        if (!sum) counts.set(series, sum = new Counts());
        sum.add(part.counts);
      }
    }
    const view = (series: Series, sum: Counts) =>
      this.#view(series, sum, this.#percentilesMs(series.windowHistogram), durationMs);
    const endpoints: EndpointStats[] = [];
    for (const [series, sum] of counts) {
      if (series !== this.#total) endpoints.push(view(series, sum));
    }
    return {
      durationMs,
      total: view(this.#total, counts.get(this.#total) ?? new Counts()),
      endpoints: endpoints.sort(byName),
    };
  }

  /** The histogram's percentiles in ms by percentile (`"50"`, `"99.9"`). */
  #percentilesMs(histogram: Histogram | RunHistogram | null): Record<string, number> {
    const out: Record<string, number> = {};
    const values = histogram === null
      ? []
      : histogram instanceof RunHistogram
      ? histogram.percentilesUs(this.#percentiles)
      : percentilesUs(histogram, this.#percentiles);
    this.#percentiles.forEach((p, i) => out[String(p)] = (values[i] ?? 0) / 1000);
    return out;
  }

  #view(
    series: Series,
    counts: Counts,
    percentilesMs: Record<string, number>,
    durationMs: number,
  ): EndpointStats {
    const seconds = durationMs > 0 ? durationMs / 1000 : 0;
    // HDR reports the top of a value's bucket; the exact min and max bound what is true.
    const minMs = counts.minUs === Infinity ? 0 : counts.minUs / 1000;
    const maxMs = counts.maxUs / 1000;
    const bounded: Record<string, number> = {};
    for (const [p, ms] of Object.entries(percentilesMs)) {
      bounded[p] = counts.measured > 0 ? Math.min(maxMs, Math.max(minMs, ms)) : 0;
    }
    return {
      method: series.method,
      name: series.name,
      requests: counts.requests,
      failures: counts.failures,
      aborted: counts.aborted,
      retries: counts.retries,
      bytes: counts.bytes,
      rps: seconds > 0 ? counts.requests / seconds : 0,
      failuresPerSec: seconds > 0 ? counts.failures / seconds : 0,
      minMs,
      maxMs,
      meanMs: counts.measured > 0 ? counts.sumUs / counts.measured / 1000 : 0,
      percentilesMs: bounded,
      statuses: Object.fromEntries([...counts.statuses].map(([s, n]) => [String(s), n])),
    };
  }

  /** Failures by endpoint and error text, most frequent first. */
  failures(): FailureStats[] {
    const rows: FailureStats[] = [];
    for (const [series, texts] of this.#errors) {
      for (const [error, occurrences] of texts) {
        rows.push({ method: series.method, name: series.name, error, occurrences });
      }
    }
    return rows.sort((a, b) => b.occurrences - a.occurrences || (a.name < b.name ? -1 : 1));
  }

  /** The cumulative histogram of every endpoint and of the total, for exact offline merges. */
  cumulativeHistograms(): EndpointHistogram[] {
    return [...this.#series.values(), this.#total].map((s) => ({
      method: s.method,
      name: s.name,
      histogram: s.cumulativeHistogram?.toHistogram() ?? createHistogram(),
      ...(s.correctedHistogram === null ? {} : {
        correctedHistogram: s.correctedHistogram.toHistogram(),
        correctedMaxUs: s.correctedMaxUs,
      }),
    }));
  }
}
