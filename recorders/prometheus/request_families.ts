// The request families of the Prometheus recorder: counters by status, the duration histograms
// (as measured and corrected) and the window's exact percentiles as a summary.
import {
  endpointKey,
  type EndpointStats,
  type StatsView,
  TOTAL_NAME,
} from "../../core/stats/types.ts";
import type { BucketExemplar, ExpositionWriter } from "./exposition.ts";

/** One status's counts of an endpoint. */
export interface StatusCounts {
  requests: number;
  failures: number;
}

/** One endpoint as the Prometheus recorder accumulates it. */
export interface EndpointSeries {
  method: string;
  name: string;
  byStatus: Map<number, StatusCounts>;
  /** Durations per bucket (not cumulative); the last entry is above every bound. */
  buckets: number[];
  /** The latest sampled request of each bucket (traces on), shown in OpenMetrics. */
  exemplars: (BucketExemplar | undefined)[];
  sumUs: number;
  bytes: number;
  /** Corrected latencies per bucket, and their sum (from the HDR histogram), when known. */
  corrected: number[] | null;
  correctedSumUs: number;
}

/** What the request families are rendered from. */
export interface RequestView {
  /** Every endpoint served, by its key (`endpointKey`). */
  endpoints: ReadonlyMap<string, EndpointSeries>;
  /** The histograms' bucket bounds, in seconds. */
  boundsSeconds: readonly number[];
  /** The current window, for its percentiles; null before the first interval. */
  window: StatsView | null;
  percentiles: readonly number[];
}

/** A label value for a percentile: 99.9 → "0.999". */
export function quantileLabel(percentile: number): string {
  return String(Number((percentile / 100).toPrecision(12)));
}

/** The stampede_request* families of every endpoint. */
export function renderRequestFamilies(w: ExpositionWriter, view: RequestView): void {
  const endpoints = [...view.endpoints.values()];
  renderCounters(w, endpoints);
  renderDurations(w, endpoints, view.boundsSeconds);
  renderWindowSummary(w, view);
}

/** Requests and failures by status, and bytes received. */
function renderCounters(w: ExpositionWriter, endpoints: readonly EndpointSeries[]): void {
  const statusCounters: [string, string, (c: StatusCounts) => number][] = [
    [
      "stampede_requests_total",
      "Completed requests (failures included) by method, name and status (0: no response)",
      (c) => c.requests,
    ],
    [
      "stampede_request_failures_total",
      "Failed requests (status >= 400, network errors, timeouts, task exceptions)",
      (c) => c.failures,
    ],
  ];
  for (const [name, help, pick] of statusCounters) {
    w.family(name, "counter", help);
    for (const e of endpoints) {
      for (const [status, c] of e.byStatus) {
        w.sample(name, { method: e.method, name: e.name, status: String(status) }, pick(c));
      }
    }
  }
  w.family("stampede_received_bytes_total", "counter", "Response bytes received");
  for (const e of endpoints) {
    w.sample("stampede_received_bytes_total", { method: e.method, name: e.name }, e.bytes);
  }
}

/** The duration histograms: as measured, and corrected where known. */
function renderDurations(
  w: ExpositionWriter,
  endpoints: readonly EndpointSeries[],
  boundsSeconds: readonly number[],
): void {
  renderHistograms(
    w,
    "stampede_request_duration_seconds",
    "Request durations to the last byte of the response (from the HDR histograms; exact sum)",
    endpoints,
    boundsSeconds,
    (e) => [e.buckets, e.sumUs, e.exemplars],
  );
  const corrected = endpoints.filter((e) => e.corrected !== null);
  if (corrected.length > 0) {
    renderHistograms(
      w,
      "stampede_request_corrected_duration_seconds",
      "Request durations from when each iteration was due (arrival rates, pacing): coordinated " +
        "omission included; _sum from the HDR histogram",
      corrected,
      boundsSeconds,
      (e) => [e.corrected!, e.correctedSumUs],
    );
  }
}

/** One histogram family: each endpoint's bucket counts, sum (µs, shown in s) and exemplars. */
function renderHistograms(
  w: ExpositionWriter,
  family: string,
  help: string,
  endpoints: readonly EndpointSeries[],
  boundsSeconds: readonly number[],
  pick: (e: EndpointSeries) => [number[], number, (BucketExemplar | undefined)[]?],
): void {
  w.family(family, "histogram", help);
  for (const e of endpoints) {
    const [counts, sumUs, exemplars] = pick(e);
    w.histogram(
      family,
      { method: e.method, name: e.name },
      boundsSeconds,
      counts,
      sumUs / 1e6,
      exemplars,
    );
  }
}

/** The window's exact percentiles of each endpoint and of the total, as one summary family. */
function renderWindowSummary(w: ExpositionWriter, view: RequestView): void {
  // Prometheus has no gauge with a `quantile` label (promtool rejects one): the exact window
  // percentiles are a summary, whose _sum and _count run since the start, as summaries do.
  const family = "stampede_window_request_duration_seconds";
  w.family(
    family,
    "summary",
    "Request durations: quantiles are the exact (HDR) percentiles of the last 10 s; _sum and " +
      '_count run since the start. method="" name="Aggregated" is every request',
  );
  const window = view.window;
  const current = new Map(window?.endpoints.map((e) => [endpointKey(e.method, e.name), e]));
  let totalSum = 0;
  let totalCount = 0;
  for (const [key, e] of view.endpoints) {
    const count = e.buckets.reduce((a, b) => a + b, 0);
    totalSum += e.sumUs / 1e6;
    totalCount += count;
    w.summary(
      family,
      { method: e.method, name: e.name },
      quantiles(view, current.get(key)),
      e.sumUs / 1e6,
      count,
    );
  }
  if (window || totalCount > 0) {
    w.summary(
      family,
      { method: "", name: TOTAL_NAME },
      quantiles(view, window?.total),
      totalSum,
      totalCount,
    );
  }
}

/** The window percentiles of one row in seconds, by `quantile` label; none without a row. */
function quantiles(view: RequestView, e: EndpointStats | undefined): [string, number][] {
  if (!e) return [];
  return view.percentiles.map((p) => [quantileLabel(p), (e.percentilesMs[p] ?? 0) / 1000]);
}
