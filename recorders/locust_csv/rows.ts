// The rows of Locust's four CSV files from Stampede's snapshots. Stampede counts an exception a
// task throws as a request of type `TASK`; Locust counts none of them as requests and lists them
// in the exceptions file, so `TASK` rows go there and stay out of the stats, the failures and the
// Aggregated row (which counts every other request, as Locust's does).
import type { FinalSnapshot, IntervalSnapshot } from "../../core/recorder/types.ts";
import {
  type EndpointHistogram,
  endpointKey,
  type EndpointStats,
  type FailureStats,
  type StatsView,
} from "../../core/stats/types.ts";
import { type LatencyWindow, TOTAL_KEY, valuesMs } from "./latency_window.ts";
import { type Cell, fixedSix, pythonFloat, pythonInt } from "./csv_text.ts";
import { LOCUST_PERCENTILES } from "./columns.ts";

/** The type of the rows that count exceptions thrown by tasks. */
export const TASK_TYPE = "TASK";

/** What Locust writes for the percentiles of an entry without requests. */
const NOT_AVAILABLE = LOCUST_PERCENTILES.map(() => "N/A");

/** Locust's `Nodes` of an exception: Stampede's load workers are threads of this process. */
const NODES = "local";

/** Counts of an endpoint, or of the total without its `TASK` rows. */
interface Counts {
  requests: number;
  failures: number;
  bytes: number;
  rps: number;
  failuresPerSec: number;
}

/** The total of a view without the `TASK` rows: Locust's Aggregated counts requests only. */
export function totalWithoutTasks(view: StatsView): EndpointStats {
  const tasks = view.endpoints.filter((e) => e.method === TASK_TYPE);
  if (tasks.length === 0) return view.total;
  const minus = (pick: (e: Counts) => number) =>
    tasks.reduce((left, e) => left - pick(e), pick(view.total));
  return {
    ...view.total,
    requests: minus((e) => e.requests),
    failures: minus((e) => e.failures),
    bytes: minus((e) => e.bytes),
    rps: Math.max(0, minus((e) => e.rps)),
    failuresPerSec: Math.max(0, minus((e) => e.failuresPerSec)),
  };
}

/** The request endpoints of a view, sorted by name then method as Locust sorts them. */
function requestEndpoints(view: StatsView): EndpointStats[] {
  return view.endpoints.filter((e) => e.method !== TASK_TYPE);
}

/** Latencies at Locust's percentiles, whole ms, bounded by the exact min and max. */
function percentileCells(values: number[] | null, stats: EndpointStats): Cell[] {
  if (stats.requests === 0) return NOT_AVAILABLE;
  if (values === null) return LOCUST_PERCENTILES.map(() => "0");
  return values.map((ms) => pythonInt(Math.min(stats.maxMs, Math.max(stats.minMs, ms))));
}

/** Locust's `Average Content Size`: 0 (an int) before the first request. */
function contentSize(stats: EndpointStats): Cell {
  return stats.requests === 0 ? "0" : pythonFloat(stats.bytes / stats.requests);
}

/** Min and max as Locust writes them: 0 (an int) before the first latency. */
function latencyBound(stats: EndpointStats, ms: number): Cell {
  return stats.requests === 0 ? "0" : pythonFloat(ms);
}

function medianOf(values: number[] | null, stats: EndpointStats): Cell {
  if (values === null) return "0";
  return pythonInt(Math.min(stats.maxMs, Math.max(stats.minMs, values[0])));
}

/** `_stats.csv`: each endpoint, then `Aggregated`, over the whole run. */
export function statsRows(final: FinalSnapshot): Cell[][] {
  const histograms = new Map<string, EndpointHistogram>(
    final.histograms.map((h) => [endpointKey(h.method, h.name), h]),
  );
  const row = (stats: EndpointStats, key: string): Cell[] => {
    const values = valuesMs(histograms.get(key)?.histogram, LOCUST_PERCENTILES);
    return [
      stats.method,
      stats.name,
      String(stats.requests),
      String(stats.failures),
      medianOf(values, stats),
      pythonFloat(stats.meanMs),
      latencyBound(stats, stats.minMs),
      latencyBound(stats, stats.maxMs),
      contentSize(stats),
      pythonFloat(stats.rps),
      pythonFloat(stats.failuresPerSec),
      ...percentileCells(values, stats),
    ];
  };
  return [
    ...requestEndpoints(final.cumulative).map((e) => row(e, endpointKey(e.method, e.name))),
    row(totalWithoutTasks(final.cumulative), TOTAL_KEY),
  ];
}

/**
 * `_stats_history.csv`: the rows of one interval. The Aggregated row, and with `perEndpoint`
 * every endpoint before it (Locust's `--csv-full-history`). Requests/s, Failures/s and the
 * percentiles are current (the last 10 s); the `Total` columns are since the start.
 */
export function historyRows(
  snapshot: IntervalSnapshot,
  latencies: LatencyWindow,
  perEndpoint: boolean,
): Cell[][] {
  const timestamp = String(Math.floor(Date.parse(snapshot.at) / 1000));
  const current = new Map(
    snapshot.window.endpoints.map((e) => [endpointKey(e.method, e.name), e]),
  );
  const row = (total: EndpointStats, window: EndpointStats | undefined, key: string): Cell[] => [
    timestamp,
    String(snapshot.users),
    total.method,
    total.name,
    fixedSix(window?.rps ?? 0),
    fixedSix(window?.failuresPerSec ?? 0),
    ...percentileCells(
      latencies.windowMs(key, LOCUST_PERCENTILES),
      // Bounded by the window's exact min and max, when the window has latencies.
      window && window.requests > 0 ? { ...window, requests: total.requests } : total,
    ),
    String(total.requests),
    String(total.failures),
    medianOf(latencies.cumulativeMs(key, [50]), total),
    pythonFloat(total.meanMs),
    latencyBound(total, total.minMs),
    latencyBound(total, total.maxMs),
    contentSize(total),
  ];
  const rows: Cell[][] = [];
  if (perEndpoint) {
    for (const e of requestEndpoints(snapshot.cumulative)) {
      const key = endpointKey(e.method, e.name);
      rows.push(row(e, current.get(key), key));
    }
  }
  rows.push(
    row(totalWithoutTasks(snapshot.cumulative), totalWithoutTasks(snapshot.window), TOTAL_KEY),
  );
  return rows;
}

/** `_failures.csv`: failures by endpoint and error text, most frequent first; `TASK` rows left out. */
export function failureRows(failures: readonly FailureStats[]): Cell[][] {
  return failures.filter((f) => f.method !== TASK_TYPE).map((f) => [
    f.method,
    f.name,
    f.error,
    String(f.occurrences),
  ]);
}

/**
 * `_exceptions.csv`: the `TASK` failures, one row per task and error text. Stampede keeps an
 * exception's first line, not its stack, so `Traceback` names the task that threw.
 */
export function exceptionRows(failures: readonly FailureStats[]): Cell[][] {
  return failures.filter((f) => f.method === TASK_TYPE).map((f) => [
    String(f.occurrences),
    f.error,
    `in task "${f.name}"`,
    NODES,
  ]);
}
