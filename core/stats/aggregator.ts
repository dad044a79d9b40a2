// Merging on the coordinator: every worker's deltas into cumulative stats, a rolling window and
// the interval's cells, exact because HDR histograms add without loss.
import { createHistogram, decodeHistogram, percentileMs } from "./histogram.ts";
import type { StatsDelta } from "./delta.ts";
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

class Aggregate {
  requests = 0;
  failures = 0;
  bytes = 0;
  aborted = 0;
  readonly histogram = createHistogram();
  readonly statuses = new Map<number, number>();
  sumUs = 0;
  minUs = Infinity;
  maxUs = 0;

  constructor(readonly method: string, readonly name: string) {}

  addCounts(requests: number, failed: boolean, bytes: number, status: number): void {
    this.requests += requests;
    if (failed) this.failures += requests;
    this.bytes += bytes;
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + requests);
  }

  addLatencies(sumUs: number, minUs: number, maxUs: number): void {
    this.sumUs += sumUs;
    if (minUs < this.minUs) this.minUs = minUs;
    if (maxUs > this.maxUs) this.maxUs = maxUs;
  }

  merge(other: Aggregate): void {
    this.addLatencies(other.sumUs, other.minUs, other.maxUs);
    this.requests += other.requests;
    this.failures += other.failures;
    this.bytes += other.bytes;
    this.aborted += other.aborted;
    this.histogram.add(other.histogram);
    for (const [status, n] of other.statuses) {
      this.statuses.set(status, (this.statuses.get(status) ?? 0) + n);
    }
  }

  view(percentiles: readonly number[], durationMs: number): EndpointStats {
    const seconds = durationMs > 0 ? durationMs / 1000 : 0;
    const measured = this.histogram.totalCount;
    const percentilesMs: Record<string, number> = {};
    // HDR reports the top of a value's bucket; the exact min and max bound what is true.
    const minMs = this.minUs === Infinity ? 0 : this.minUs / 1000;
    const maxMs = this.maxUs / 1000;
    for (const p of percentiles) {
      const ms = percentileMs(this.histogram, p);
      percentilesMs[String(p)] = measured > 0 ? Math.min(maxMs, Math.max(minMs, ms)) : 0;
    }
    return {
      method: this.method,
      name: this.name,
      requests: this.requests,
      failures: this.failures,
      aborted: this.aborted,
      bytes: this.bytes,
      rps: seconds > 0 ? this.requests / seconds : 0,
      failuresPerSec: seconds > 0 ? this.failures / seconds : 0,
      minMs,
      maxMs,
      meanMs: measured > 0 ? this.sumUs / measured / 1000 : 0,
      percentilesMs,
      statuses: Object.fromEntries([...this.statuses].map(([s, n]) => [String(s), n])),
    };
  }
}

class Interval {
  readonly endpoints = new Map<string, Aggregate>();
  readonly total = new Aggregate("", TOTAL_NAME);
  readonly cells = new Map<string, IntervalCell>();
  endMs = 0;
  constructor(readonly startMs: number) {}
}

function byName(a: EndpointStats, b: EndpointStats): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.method < b.method ? -1 : 1;
}

/**
 * Merges the deltas of every load worker into cumulative stats and a rolling window
 * (`windowMs`, default 10 s) of closed intervals, on the coordinator.
 */
export class StatsAggregator {
  readonly #percentiles: readonly number[];
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #cumulative = new Map<string, Aggregate>();
  readonly #total = new Aggregate("", TOTAL_NAME);
  readonly #errors = new Map<string, Map<string, number>>();
  #current: Interval;
  #ring: Interval[] = [];

  constructor(options: { percentiles?: readonly number[]; windowMs?: number; now?: () => number }) {
    this.#percentiles = options.percentiles ?? DEFAULT_PERCENTILES;
    this.#windowMs = options.windowMs ?? 10_000;
    this.#now = options.now ?? (() => performance.now());
    this.#current = new Interval(this.#now());
  }

  /** Merges one worker's delta into the current interval. */
  add(delta: StatsDelta): void {
    const interval = this.#current;
    for (const e of delta.endpoints) {
      const key = endpointKey(e.method, e.name);
      let current = interval.endpoints.get(key);
      if (!current) interval.endpoints.set(key, current = new Aggregate(e.method, e.name));
      current.aborted += e.aborted;
      for (const c of e.cells) {
        current.addCounts(c.requests, c.failed, c.bytes, c.status);
        const cellKey = `${key}\u0000${c.status}\u0000${c.failed}`;
        let cell = interval.cells.get(cellKey);
        if (!cell) {
          cell = {
            method: e.method,
            name: e.name,
            status: c.status,
            failed: c.failed,
            requests: 0,
            bytes: 0,
            histogram: null,
            sumUs: 0,
          };
          interval.cells.set(cellKey, cell);
        }
        cell.requests += c.requests;
        cell.bytes += c.bytes;
        if (c.histogram !== null) {
          current.addLatencies(c.sumUs, c.minUs, c.maxUs);
          cell.sumUs += c.sumUs;
          const histogram = decodeHistogram(c.histogram);
          current.histogram.add(histogram);
          if (cell.histogram) cell.histogram.add(histogram);
          else cell.histogram = histogram;
        }
      }
      if (e.errors.length > 0) {
        let errors = this.#errors.get(key);
        if (!errors) this.#errors.set(key, errors = new Map());
        for (const [error, n] of e.errors) errors.set(error, (errors.get(error) ?? 0) + n);
      }
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
    for (const [key, aggregate] of closed.endpoints) {
      let cumulative = this.#cumulative.get(key);
      if (!cumulative) {
        cumulative = new Aggregate(aggregate.method, aggregate.name);
        this.#cumulative.set(key, cumulative);
      }
      cumulative.merge(aggregate);
      closed.total.merge(aggregate);
    }
    this.#total.merge(closed.total);
    this.#ring.push(closed);
    while (this.#ring.length > 1 && nowMs - this.#ring[1].startMs >= this.#windowMs) {
      this.#ring.shift();
    }
    this.#current = new Interval(nowMs);
    return [...closed.cells.values()];
  }

  /** Everything since the start, over `durationMs` of run time. */
  cumulative(durationMs: number): StatsView {
    return {
      durationMs,
      total: this.#total.view(this.#percentiles, durationMs),
      endpoints: [...this.#cumulative.values()]
        .map((a) => a.view(this.#percentiles, durationMs))
        .sort(byName),
    };
  }

  /** The rolling window: the closed intervals of the last `windowMs`. */
  window(): StatsView {
    const ring = this.#ring;
    const durationMs = ring.length > 0 ? ring[ring.length - 1].endMs - ring[0].startMs : 0;
    const endpoints = new Map<string, Aggregate>();
    const total = new Aggregate("", TOTAL_NAME);
    for (const interval of ring) {
      total.merge(interval.total);
      for (const [key, aggregate] of interval.endpoints) {
        let sum = endpoints.get(key);
        if (!sum) endpoints.set(key, sum = new Aggregate(aggregate.method, aggregate.name));
        sum.merge(aggregate);
      }
    }
    return {
      durationMs,
      total: total.view(this.#percentiles, durationMs),
      endpoints: [...endpoints.values()].map((a) => a.view(this.#percentiles, durationMs)).sort(
        byName,
      ),
    };
  }

  /** Failures by endpoint and error text, most frequent first. */
  failures(): FailureStats[] {
    const rows: FailureStats[] = [];
    for (const [key, errors] of this.#errors) {
      const [method, name] = key.split("\u0000");
      for (const [error, occurrences] of errors) rows.push({ method, name, error, occurrences });
    }
    return rows.sort((a, b) => b.occurrences - a.occurrences || (a.name < b.name ? -1 : 1));
  }

  /** The cumulative histogram of every endpoint and of the total, for exact offline merges. */
  cumulativeHistograms(): EndpointHistogram[] {
    return [...this.#cumulative.values(), this.#total].map((a) => ({
      method: a.method,
      name: a.name,
      histogram: a.histogram,
    }));
  }
}
