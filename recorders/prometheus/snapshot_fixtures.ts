// Snapshots and a reader of the exposition for the prometheus recorder's tests (not published).
import type { FinalSnapshot, IntervalSnapshot } from "../../core/recorder/types.ts";
import { createRunInfo } from "../../core/run_info.ts";
import { createHistogram, recordLatencyUs } from "../../core/stats/histogram.ts";
import { endpointStats } from "../../core/stats/test_fixtures.ts";
import type { EndpointStats, IntervalCell, StatsView } from "../../core/stats/types.ts";

/** The run every test renders: tags include a reserved label name and one to sanitize. */
export const run = createRunInfo({
  testplan: "shop",
  host: "http://127.0.0.1:8000",
  tags: { env: "ci", "build-id": "42", host: "clash" },
});

/** A cell of `latenciesUs` (one request each), failed from status 400 unless told. */
export function cell(
  method: string,
  name: string,
  status: number,
  latenciesUs: number[],
  failed = status >= 400,
): IntervalCell {
  const histogram = createHistogram();
  for (const us of latenciesUs) recordLatencyUs(histogram, us);
  return {
    method,
    name,
    status,
    failed,
    requests: latenciesUs.length,
    bytes: 10 * latenciesUs.length,
    histogram: latenciesUs.length > 0 ? histogram : null,
    sumUs: latenciesUs.reduce((a, b) => a + b, 0),
    minUs: latenciesUs.length > 0 ? Math.min(...latenciesUs) : 0,
    maxUs: latenciesUs.length > 0 ? Math.max(...latenciesUs) : 0,
  };
}

/** An endpoint's row of 10 requests, one failed, with these percentiles. */
export function stats(
  method: string,
  name: string,
  percentilesMs: Record<string, number>,
): EndpointStats {
  return endpointStats({
    method,
    name,
    requests: 10,
    failures: 1,
    bytes: 100,
    rps: 5,
    failuresPerSec: 0.5,
    minMs: 1,
    maxMs: 9,
    meanMs: 4,
    percentilesMs,
    statuses: { "200": 9, "500": 1 },
  });
}

/** A view of these rows over 2 s. */
export function view(endpoints: EndpointStats[], total: EndpointStats): StatsView {
  return { durationMs: 2000, total, endpoints };
}

/** An interval snapshot of 4 users on 2 workers with these cells (and window). */
export function interval(cells: IntervalCell[], window?: StatsView): IntervalSnapshot {
  const empty = view([], stats("", "Aggregated", {}));
  return {
    at: new Date().toISOString(),
    elapsedMs: 1000,
    runTimeMs: 5000,
    users: 4,
    usersByKind: { shopper: 3, bot: 1 },
    workers: 2,
    window: window ?? empty,
    cumulative: window ?? empty,
    cells,
    failures: [],
    checks: [],
    iterations: [],
    targetRates: {},
  };
}

/** A final snapshot of these cells with one failure text. */
export function final(cells: IntervalCell[]): FinalSnapshot {
  return {
    at: new Date().toISOString(),
    elapsedMs: 5000,
    reason: "completed",
    users: 4,
    usersByKind: { shopper: 3, bot: 1 },
    cumulative: view([], stats("", "Aggregated", {})),
    failures: [{ method: "POST", name: "/cart", error: "HTTP 503", occurrences: 1 }],
    cells,
    histograms: [],
    thresholds: [],
    checks: [],
    iterations: [],
  };
}

/** Sample lines of `text` as "name{labels}" → value, without the run's constant labels. */
export function samples(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    const series = line.slice(0, at).replace(`run_id="${run.runId}",testplan="shop",`, "")
      .replace(`{run_id="${run.runId}",testplan="shop"}`, "");
    map.set(series, Number(line.slice(at + 1)));
  }
  return map;
}
