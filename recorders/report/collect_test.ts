import assert from "node:assert/strict";
import type { FinalSnapshot, IntervalSnapshot } from "../../core/recorder/types.ts";
import { createRunInfo } from "../../core/run_info.ts";
import { createHistogram, type Histogram } from "../../core/stats/histogram.ts";
import type { EndpointStats, IntervalCell, StatsView } from "../../core/stats/types.ts";
import { ReportCollector } from "./collect.ts";
import { endpointStats } from "../../core/stats/test_fixtures.ts";

function stats(over: Partial<EndpointStats>): EndpointStats {
  return endpointStats({ minMs: 1, maxMs: 100, ...over });
}

function histogramOf(fromMs: number, toMs: number): Histogram {
  const h = createHistogram();
  for (let ms = fromMs; ms <= toMs; ms++) h.recordValue(ms * 1000);
  return h;
}

function cell(histogram: Histogram | null, extra: Record<string, unknown> = {}): IntervalCell {
  return {
    method: "GET",
    name: "/a",
    status: 200,
    failed: false,
    requests: histogram?.totalCount ?? 1,
    bytes: 0,
    histogram,
    sumUs: 0,
    minUs: 0,
    maxUs: 0,
    ...extra,
  };
}

function snapshot(elapsedMs: number, requests: number, failures: number, cells: IntervalCell[]) {
  const view: StatsView = {
    durationMs: elapsedMs,
    total: stats({ requests, failures }),
    endpoints: [stats({ method: "GET", name: "/a", requests, failures })],
  };
  const s: IntervalSnapshot = {
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, elapsedMs / 1000)).toISOString(),
    elapsedMs,
    runTimeMs: 10_000,
    users: elapsedMs / 1000,
    usersByKind: {},
    workers: 1,
    window: view,
    cumulative: view,
    cells,
    failures: [],
    checks: [],
    iterations: [],
    targetRates: {},
  };
  return s;
}

const run = createRunInfo({ testplan: "shop", host: "http://127.0.0.1:1", tags: { team: "a" } });

Deno.test("a point per interval: rates from the counts' growth, percentiles of the interval's cells", () => {
  const collector = new ReportCollector(run);
  collector.interval(snapshot(1_000, 100, 10, [cell(histogramOf(1, 100))]));
  collector.interval(snapshot(2_000, 300, 10, [cell(histogramOf(101, 200))]));
  collector.interval(snapshot(3_000, 300, 10, []));
  const { timeline } = collector.data();
  assert.deepEqual(timeline.t, [1767225601, 1767225602, 1767225603]);
  assert.deepEqual(timeline.rps, [100, 200, 0]);
  assert.deepEqual(timeline.failuresPerSec, [10, 0, 0]);
  assert.deepEqual(timeline.users, [1, 2, 3]);
  assert.ok(Math.abs(timeline.service.p50Ms[0]! - 50) < 0.1);
  assert.ok(Math.abs(timeline.service.p50Ms[1]! - 150) < 0.1, "the interval's, not the run's");
  assert.equal(timeline.service.p99Ms[2], null, "no latency in the interval: a gap");
  assert.equal(timeline.corrected, null);
});

Deno.test("corrected latency shows once the cells carry it (the hook); earlier points are gaps", () => {
  const collector = new ReportCollector(run);
  collector.interval(snapshot(1_000, 100, 0, [cell(histogramOf(1, 100))]));
  collector.interval(
    snapshot(2_000, 200, 0, [
      cell(histogramOf(1, 100), { correctedHistogram: histogramOf(201, 300) }),
    ]),
  );
  const corrected = collector.data().timeline.corrected!;
  assert.equal(corrected.p50Ms[0], null);
  assert.ok(Math.abs(corrected.p50Ms[1]! - 250) < 0.3);
});

Deno.test("at the end: the tables from the run's histograms, the spectrum, events and verdicts", () => {
  const collector = new ReportCollector(run);
  const at = "2026-01-01T00:00:00.000Z";
  collector.event({
    name: "test_start",
    at,
    source: "coordinator",
    data: { started_at: at, users: 5, spawn_rate: null, run_time_ms: 10_000, workers: 2, host: "" },
  });
  collector.event({
    name: "stage_started",
    at,
    source: "coordinator",
    data: { stage: 1, users: 5, duration_ms: 10_000 },
  });
  collector.event({
    name: "event_loop_lag_warning",
    at,
    source: "worker-1",
    data: { lag_p99_ms: 120, threshold_ms: 50 },
  });
  const h = histogramOf(1, 100);
  const cumulative: StatsView = {
    durationMs: 10_000,
    total: stats({ requests: 100 }),
    endpoints: [stats({ method: "GET", name: "/a", requests: 100 })],
  };
  const final: FinalSnapshot = {
    at,
    elapsedMs: 10_000,
    reason: "completed",
    users: 5,
    usersByKind: {},
    cumulative,
    failures: [],
    cells: [],
    histograms: [
      { method: "GET", name: "/a", histogram: h },
      { method: "", name: "Aggregated", histogram: h },
    ],
    thresholds: [{
      metric: "http.duration",
      expression: "p(95)<50",
      value: 95,
      limit: 50,
      ok: false,
    }],
    checks: [],
    iterations: [],
  };
  collector.final(final);
  const data = collector.data();
  assert.equal(data.complete, true);
  assert.equal(data.run.workers, 2);
  assert.deepEqual(data.stages, [{ stage: 1, users: 5, durationMs: 10_000, at }]);
  assert.match(data.warnings[0].text, /worker-1 is overloaded: its event loop runs 120 ms late/);
  // From the run's histogram (HDR's 3 digits), not the view's percentiles (none here).
  assert.ok(Math.abs(data.endpoints[0].percentilesMs["90"]! - 90) < 0.1);
  assert.equal(data.total!.percentilesMs["99.9"], 100, "bounded by the exact max");
  assert.deepEqual(data.spectrum!.series.map((s) => s.label), ["all requests", "GET /a"]);
  assert.equal(data.spectrum!.series[0].valuesMs.at(-1), 100);
  assert.deepEqual(data.thresholds, final.thresholds);
});

Deno.test("without final stats, the tables are the last interval's", () => {
  const collector = new ReportCollector(run);
  collector.interval(snapshot(1_000, 40, 2, []));
  const data = collector.data();
  assert.equal(data.complete, false);
  assert.equal(data.total!.requests, 40);
  assert.equal(data.spectrum, null);
});
