// What the aggregator keeps per endpoint (and for the total): a series of counts with its run's
// and window's latencies, and each interval's part of it (kept until the window drops it).
import type { CellDelta } from "./delta.ts";
import { createHistogram, type Histogram } from "./histogram.ts";
import { RunHistogram } from "./run_histogram.ts";
import type { IntervalCell } from "./types.ts";

/** Counts and exact latency bounds of some requests: what views add up. */
export class Counts {
  requests = 0;
  failures = 0;
  bytes = 0;
  aborted = 0;
  retries = 0;
  /** Requests with a measured latency (the histogram's count). */
  measured = 0;
  sumUs = 0;
  minUs = Infinity;
  maxUs = 0;
  readonly statuses = new Map<number, number>();

  addCell(c: CellDelta): void {
    this.requests += c.requests;
    if (c.failed) this.failures += c.requests;
    this.bytes += c.bytes;
    this.statuses.set(c.status, (this.statuses.get(c.status) ?? 0) + c.requests);
    if (c.histogram === null) return;
    this.measured += c.requests;
    this.sumUs += c.sumUs;
    if (c.minUs < this.minUs) this.minUs = c.minUs;
    if (c.maxUs > this.maxUs) this.maxUs = c.maxUs;
  }

  add(other: Counts): void {
    this.requests += other.requests;
    this.failures += other.failures;
    this.bytes += other.bytes;
    this.aborted += other.aborted;
    this.retries += other.retries;
    this.measured += other.measured;
    this.sumUs += other.sumUs;
    if (other.minUs < this.minUs) this.minUs = other.minUs;
    if (other.maxUs > this.maxUs) this.maxUs = other.maxUs;
    for (const [status, n] of other.statuses) {
      this.statuses.set(status, (this.statuses.get(status) ?? 0) + n);
    }
  }
}

/** One endpoint's (or the total's) share of one interval. */
export interface Part {
  readonly counts: Counts;
  /** The compressed histograms its cells came with: subtracted from the window at expiry. */
  readonly encoded: string[];
}

/** One endpoint, or the total, as the coordinator keeps it. */
export class Series {
  readonly cumulative = new Counts();
  /**
   * Latencies of the whole run (sparse: kept for the run, so a few KB each, not 95 KB), and of
   * the window (flat: subtracted from every interval, which is slow on a packed array; dropped
   * when the series has nothing left in the window, so idle rows cost nothing).
   */
  cumulativeHistogram: RunHistogram | null = null;
  windowHistogram: Histogram | null = null;
  /** The cumulative percentiles (ms) while the run's latencies have not changed. */
  cachedPercentilesMs: Record<string, number> | null = null;
  /** The run's corrected latencies (from when each iteration was due), when known. */
  correctedHistogram: RunHistogram | null = null;
  correctedMaxUs = 0;
  cachedCorrectedMs: Record<string, number> | null = null;

  constructor(readonly method: string, readonly name: string) {}

  addLatencies(histogram: Histogram): void {
    (this.cumulativeHistogram ??= new RunHistogram()).add(histogram);
    (this.windowHistogram ??= createHistogram()).add(histogram);
    this.cachedPercentilesMs = null;
  }

  addCorrected(histogram: Histogram, maxUs: number): void {
    (this.correctedHistogram ??= new RunHistogram()).add(histogram);
    if (maxUs > this.correctedMaxUs) this.correctedMaxUs = maxUs;
    this.cachedCorrectedMs = null;
  }
}

/** One stats interval: each series' part of it, and its cells by key, until it expires. */
export class Interval {
  readonly parts = new Map<Series, Part>();
  readonly cells = new Map<string, IntervalCell>();
  endMs = 0;
  constructor(readonly startMs: number) {}

  partOf(series: Series): Part {
    let part = this.parts.get(series);
    if (!part) this.parts.set(series, part = { counts: new Counts(), encoded: [] });
    return part;
  }
}
