// The shapes stats take once merged on the coordinator: what recorders, the summary and
// thresholds read. Plain data; the aggregator builds them.
import type { Exemplar } from "./exemplars.ts";
import type { Histogram } from "./histogram.ts";

/** Stats of one endpoint (or of all: method `""`, name {@link TOTAL_NAME}) over some span. */
export interface EndpointStats {
  method: string;
  name: string;
  requests: number;
  failures: number;
  /** Requests cut off by the stop; not in `requests`, `failures` or latencies. */
  aborted: number;
  /**
   * Attempts the engine sent again after a reused connection closed unanswered (h1, idempotent
   * requests): on the network, not answered; what a target received reconciles as
   * `requests + aborted` (answered or cut off) with these on top at most.
   */
  retries: number;
  /** Bytes received. */
  bytes: number;
  /** Requests per second over the span. */
  rps: number;
  /** Failures per second over the span. */
  failuresPerSec: number;
  minMs: number;
  maxMs: number;
  meanMs: number;
  /** Latency percentiles by percentile (`"50"`, `"99.9"`), in ms. */
  percentilesMs: Record<string, number>;
  /** Requests by HTTP status code (`"0"`: no response). */
  statuses: Record<string, number>;
  /**
   * Latency from when each request's iteration was due (arrival rates, pacing), not from when it
   * was sent: percentiles and max in ms, in cumulative views of runs that could correct it.
   */
  correctedPercentilesMs?: Record<string, number>;
  correctedMaxMs?: number;
}

/** Stats per endpoint and in total over a span of `durationMs`. */
export interface StatsView {
  durationMs: number;
  total: EndpointStats;
  endpoints: EndpointStats[];
}

/** Failures of one endpoint with one error text. */
export interface FailureStats {
  method: string;
  name: string;
  error: string;
  occurrences: number;
}

/**
 * One interval's requests of one endpoint, status code and outcome, with their latency
 * histogram: what exporters that keep their own histograms (OTel, Prometheus) consume.
 */
export interface IntervalCell {
  method: string;
  name: string;
  status: number;
  failed: boolean;
  requests: number;
  bytes: number;
  /** Latencies in µs; null when none were measured. */
  histogram: Histogram | null;
  /** Exact sum of the latencies in µs. */
  sumUs: number;
  /** Exact lowest and highest latency in µs (0 when none was measured). */
  minUs: number;
  maxUs: number;
  /**
   * Latencies from when each request's iteration was due (µs), in runs that know it (arrival
   * rates, pacing); absent or null otherwise. Its exact max beside it.
   */
  correctedHistogram?: Histogram | null;
  correctedMaxUs?: number;
  /** Sampled requests of the interval (traces on), the slowest per latency slot; else absent. */
  exemplars?: Exemplar[];
}

/** The cumulative latency histogram of one endpoint (or of the total), in µs. */
export interface EndpointHistogram {
  method: string;
  name: string;
  histogram: Histogram;
  /** The corrected latencies (see {@link IntervalCell.correctedHistogram}), when known. */
  correctedHistogram?: Histogram | null;
  correctedMaxUs?: number;
}

/** Percentiles every view carries unless told otherwise. */
export const DEFAULT_PERCENTILES: readonly number[] = [50, 90, 95, 99, 99.9];

/** The name of the row that sums every endpoint. */
export const TOTAL_NAME = "Aggregated";

/** One key per (method, name): what stats are grouped by everywhere. */
export function endpointKey(method: string, name: string): string {
  return `${method}\u0000${name}`;
}
