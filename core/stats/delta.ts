import type { CheckResult } from "./checks.ts";
import type { IterationCounts } from "./iterations.ts";
import type { Exemplar } from "./exemplars.ts";

/**
 * What a load worker sends once per interval: the requests it finished since the last delta.
 * Plain data, so it crosses a Web Worker boundary or a WebSocket as JSON.
 */
export interface StatsDelta {
  /** Requests by endpoint. */
  endpoints: EndpointDelta[];
  /** Named checks evaluated in the interval, by name. */
  checks: CheckResult[];
  /** Iterations started and dropped in the interval, by user kind (absent: none). */
  iterations?: IterationCounts[];
}

/** One endpoint's requests within an interval. */
export interface EndpointDelta {
  /** HTTP method, or the `type` given to `ctx.record`, or `TASK` for task exceptions. */
  method: string;
  /** Stats grouping name. */
  name: string;
  /** Counts and latencies split by status code and outcome. */
  cells: CellDelta[];
  /** Failures by short error text. */
  errors: [error: string, count: number][];
  /** Requests cut off by the stop: neither failures nor latencies. */
  aborted: number;
  /** Attempts sent again after a reused connection closed unanswered (absent: none). */
  retries?: number;
}

/** Requests of one endpoint with one status code and one outcome. */
export interface CellDelta {
  /** HTTP status code; 0 when there was no response (network error, timeout, exception). */
  status: number;
  /** Whether these requests are failures. */
  failed: boolean;
  requests: number;
  /** Bytes received. */
  bytes: number;
  /** Latencies in µs, HDR compressed base64; null when none were measured. */
  histogram: string | null;
  /** Exact sum, min and max of the measured latencies, in µs (0 when none). */
  sumUs: number;
  minUs: number;
  maxUs: number;
  /** Latencies from when each request's iteration was due, as `histogram` (absent: unknown). */
  correctedHistogram?: string;
  correctedMaxUs?: number;
  /** Sampled requests (traces on), at most one per latency slot; absent when none. */
  exemplars?: Exemplar[];
}
