import assert from "node:assert/strict";
import type { FinalSnapshot } from "../../core/recorder/types.ts";
import { createHistogram } from "../../core/stats/histogram.ts";
import type { EndpointStats, StatsView } from "../../core/stats/types.ts";
import { HISTORY_COLUMNS, STATS_COLUMNS } from "./columns.ts";
import { endpointStats } from "../../core/stats/test_fixtures.ts";
import { intervalSnapshot } from "../../core/recorder/test_fixtures.ts";
import { LatencyWindow } from "./latency_window.ts";
import { exceptionRows, failureRows, historyRows, statsRows, totalWithoutTasks } from "./rows.ts";

function stats(over: Partial<EndpointStats>): EndpointStats {
  return endpointStats({
    method: "GET",
    name: "/a",
    requests: 100,
    failures: 10,
    bytes: 200,
    rps: 10,
    failuresPerSec: 1,
    minMs: 1,
    maxMs: 100,
    meanMs: 50.5,
    ...over,
  });
}

/** /a with latencies 1..100 ms, and a TASK row of 5 exceptions. */
function view(): StatsView {
  const task = stats({
    method: "TASK",
    name: "boom",
    requests: 5,
    failures: 5,
    bytes: 0,
    rps: 0.5,
    failuresPerSec: 0.5,
    minMs: 0,
    maxMs: 0,
    meanMs: 0,
  });
  return {
    durationMs: 10_000,
    total: stats({
      method: "",
      name: "Aggregated",
      requests: 105,
      failures: 15,
      rps: 10.5,
      failuresPerSec: 1.5,
    }),
    endpoints: [stats({}), task],
  };
}

function histogram1to100() {
  const h = createHistogram();
  for (let ms = 1; ms <= 100; ms++) h.recordValue(ms * 1000);
  return h;
}

Deno.test("the Aggregated row leaves the TASK rows out, as Locust counts no exception as a request", () => {
  const total = totalWithoutTasks(view());
  assert.equal(total.requests, 100);
  assert.equal(total.failures, 10);
  assert.equal(total.rps, 10);
  assert.equal(total.failuresPerSec, 1);
});

Deno.test("_stats.csv rows: Locust's columns with the run's exact percentiles, TASK rows left out", () => {
  const h = histogram1to100();
  const final: FinalSnapshot = {
    at: "2026-01-01T00:00:10.000Z",
    elapsedMs: 10_000,
    reason: "completed",
    users: 4,
    usersByKind: {},
    cumulative: view(),
    failures: [
      { method: "GET", name: "/a", error: "HTTP 500", occurrences: 10 },
      { method: "TASK", name: "boom", error: "Error: boom", occurrences: 5 },
    ],
    cells: [],
    histograms: [
      { method: "GET", name: "/a", histogram: h },
      { method: "TASK", name: "boom", histogram: createHistogram() },
      { method: "", name: "Aggregated", histogram: h },
    ],
    thresholds: [],
    checks: [],
    iterations: [],
  };
  const rows = statsRows(final);
  assert.equal(rows.length, 2);
  for (const row of rows) assert.equal(row.length, STATS_COLUMNS.length);
  const byColumn = (row: string[]) => Object.fromEntries(STATS_COLUMNS.map((c, i) => [c, row[i]]));
  const a = byColumn(rows[0]);
  assert.equal(a.Type, "GET");
  assert.equal(a["Median Response Time"], "50");
  assert.equal(a["Average Response Time"], "50.5");
  assert.equal(a["Min Response Time"], "1.0");
  assert.equal(a["Average Content Size"], "2.0");
  assert.equal(a["90%"], "90");
  assert.equal(a["99.99%"], "100");
  assert.equal(a["100%"], "100");
  const aggregated = byColumn(rows[1]);
  assert.deepEqual([aggregated.Type, aggregated.Name, aggregated["Request Count"]], [
    "",
    "Aggregated",
    "100",
  ]);
  assert.deepEqual(failureRows(final.failures), [["GET", "/a", "HTTP 500", "10"]]);
  assert.deepEqual(exceptionRows(final.failures), [[
    "5",
    "Error: boom",
    'in task "boom"',
    "local",
  ]]);
});

Deno.test("_stats_history.csv rows: N/A before the first request, current rates, totals since the start", () => {
  const snapshot = intervalSnapshot({
    at: "2026-01-01T00:00:01.700Z",
    elapsedMs: 1_000,
    runTimeMs: 10_000,
    users: 4,
    workers: 1,
  });
  const latencies = new LatencyWindow({ perEndpoint: false });
  latencies.add(1_000, []);
  const [first] = historyRows(snapshot, latencies, false);
  assert.equal(first.length, HISTORY_COLUMNS.length);
  // As Locust writes its first row: 1767225601,4,,Aggregated,0.000000,0.000000,N/A x 11,0,0,0,0.0,0,0,0
  assert.deepEqual(first, [
    "1767225601",
    "4",
    "",
    "Aggregated",
    "0.000000",
    "0.000000",
    ...Array(11).fill("N/A"),
    "0",
    "0",
    "0",
    "0.0",
    "0",
    "0",
    "0",
  ]);

  const h = histogram1to100();
  latencies.add(2_000, [{
    method: "GET",
    name: "/a",
    status: 200,
    failed: false,
    requests: 100,
    bytes: 200,
    histogram: h,
    sumUs: 5_050_000,
    minUs: 1_000,
    maxUs: 100_000,
  }]);
  const rows = historyRows({ ...snapshot, window: view(), cumulative: view() }, latencies, true);
  assert.deepEqual(rows.map((r) => `${r[2]} ${r[3]}`), ["GET /a", " Aggregated"]);
  const aggregated = Object.fromEntries(HISTORY_COLUMNS.map((c, i) => [c, rows[1][i]]));
  assert.equal(aggregated["Requests/s"], "10.000000"); // the TASK rows' rate left out
  assert.equal(aggregated["50%"], "50");
  assert.equal(aggregated["Total Request Count"], "100");
  assert.equal(aggregated["Total Median Response Time"], "50");
});
