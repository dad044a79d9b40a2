import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import { decodeHistogram } from "../core/stats/histogram.ts";
import type { FinalSnapshot, IntervalSnapshot } from "../core/recorder/types.ts";
import { RequestStats } from "../core/stats/request_stats.ts";
import { createRunInfo } from "../core/run_info.ts";
import { StatsAggregator } from "../core/stats/aggregator.ts";
import { JsonRecorder, jsonRecorder, percentileKey } from "./json.ts";

const schema = JSON.parse(
  await Deno.readTextFile(new URL("../docs/records.schema.json", import.meta.url)),
);
const validate = new Ajv2020({ allErrors: true, strictTypes: false }).compile(schema);

function assertValid(record: unknown): void {
  assert.ok(validate(record), `${JSON.stringify(record)}\n${JSON.stringify(validate.errors)}`);
}

const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const PERCENTILES = [50, 95, 99.9];

/** When things happen in the fed run: `s` seconds after its start. */
type At = (s: number) => string;

/** Feeds one recorder a whole small run, in the order the coordinator calls it. */
function feedRun(recorder: JsonRecorder): void {
  const aggregator = new StatsAggregator({ percentiles: PERCENTILES });
  const worker = new RequestStats();
  const at = (s: number) => new Date(Date.UTC(2026, 10, 24, 10, 15, 30 + s, 123)).toISOString();
  feedStart(recorder, at);
  for (let i = 0; i < 30; i++) worker.record("GET", "/a", 200, 1000 + i * 100, 10, null);
  worker.record("POST", "/cart", 503, 5000, 0, "HTTP 503");
  aggregator.add(worker.takeDelta());
  feedInterval(recorder, aggregator, at);
  feedTrouble(recorder, at);
  for (let i = 0; i < 10; i++) worker.record("GET", "/a", 200, 2000, 10, null);
  aggregator.add(worker.takeDelta());
  feedFinal(recorder, aggregator, at);
}

/** The start: a worker started, test_start, spawning_complete. */
function feedStart(recorder: JsonRecorder, at: At): void {
  recorder.lifecycle.event({ name: "worker_started", at: at(0), source: "worker-1", data: {} });
  recorder.lifecycle.event({
    name: "test_start",
    at: at(0),
    source: "coordinator",
    data: {
      started_at: at(0),
      users: 2,
      spawn_rate: null,
      run_time_ms: null,
      workers: 1,
      host: "http://h",
    },
  });
  recorder.lifecycle.event({
    name: "spawning_complete",
    at: at(0),
    source: "coordinator",
    data: { users: 2, users_by_kind: { shopper: 2 } },
  });
}

/** The first interval's snapshot and system samples. */
function feedInterval(recorder: JsonRecorder, aggregator: StatsAggregator, at: At): void {
  const cells = aggregator.closeInterval();
  const interval: IntervalSnapshot = {
    at: at(1),
    elapsedMs: 1000,
    runTimeMs: null,
    users: 2,
    usersByKind: { shopper: 2 },
    workers: 1,
    window: aggregator.window(),
    cumulative: aggregator.cumulative(1000),
    cells,
    failures: aggregator.failures(),
    checks: [],
    iterations: [],
    targetRates: {},
  };
  recorder.request.interval(interval);
  recorder.system.samples([
    {
      at: at(1),
      source: "coordinator",
      cpuPercent: 3.5,
      processCpuPercent: 80,
      rssBytes: 100_000_000,
      heapUsedBytes: 9_000_000,
      networkSentBytes: 2048,
      networkReceivedBytes: 4096,
      eventLoopLagP99Ms: 1.2,
      intervalMs: 1000,
    },
    { at: at(1), source: "worker-1", cpuPercent: 95, heapUsedBytes: 7_000_000, intervalMs: 1000 },
  ]);
}

/** A CPU warning, a failed and a lost worker, and the lost process's samples. */
function feedTrouble(recorder: JsonRecorder, at: At): void {
  recorder.lifecycle.event({
    name: "cpu_warning",
    at: at(1),
    source: "worker-1",
    data: { cpu_percent: 95, threshold_percent: 90, duration_ms: 10_000 },
  });
  recorder.lifecycle.event({
    name: "worker_failed",
    at: at(1),
    source: "worker-2",
    data: { message: "Error: boom" },
  });
  recorder.lifecycle.event({
    name: "worker_lost",
    at: at(1),
    source: "host-b",
    data: { message: "sent no heartbeat for 10.0 s" },
  });
  recorder.system.samples([
    { at: at(1), source: "host-b", processCpuPercent: 120, rssBytes: 90_000_000, intervalMs: 1000 },
    { at: at(1), source: "host-b/worker-2", cpuPercent: 99, intervalMs: 1000 },
  ]);
}

/** The final snapshot, test_stop and the stop. */
function feedFinal(recorder: JsonRecorder, aggregator: StatsAggregator, at: At): void {
  const final: FinalSnapshot = {
    at: at(2),
    elapsedMs: 2000,
    reason: "completed",
    users: 2,
    usersByKind: { shopper: 2 },
    cells: aggregator.closeInterval(),
    cumulative: aggregator.cumulative(2000),
    failures: aggregator.failures(),
    histograms: aggregator.cumulativeHistograms(),
    thresholds: [],
    checks: [],
    iterations: [],
  };
  recorder.request.final(final);
  recorder.lifecycle.event({
    name: "test_stop",
    at: at(2),
    source: "coordinator",
    data: { reason: "completed", ended_at: at(2), duration_ms: 2000 },
  });
  recorder.output.stop();
}

function recordRun(histograms: boolean) {
  const run = createRunInfo({
    testplan: "shop",
    host: "http://h",
    tags: { team: "checkout", env: "staging" },
    metadata: { build: "42" },
  });
  let text = "";
  let closed = 0;
  const recorder = new JsonRecorder({
    run,
    percentiles: PERCENTILES,
    histograms,
    sink: { write: (t) => text += t, close: () => closed++ },
  });
  feedRun(recorder);
  const records = text.trimEnd().split("\n").map((line) => JSON.parse(line));
  return { run, records, closed };
}

Deno.test("every record is one valid JSON line carrying the run's facts", () => {
  const { run, records, closed } = recordRun(false);
  assert.equal(closed, 1);
  for (const r of records) {
    assertValid(r);
    assert.match(r["@timestamp"], RFC3339_MS);
    assert.equal(r.run_id, run.runId);
    assert.equal(r.testplan, "shop");
    assert.deepEqual(r.tags, { team: "checkout", env: "staging" });
    assert.deepEqual(r.metadata, { build: "42" });
    assert.ok(r.telemetry_name.startsWith("stampede."));
  }
  assert.deepEqual(records.map((r) => [r.telemetry_name, r.stats_type ?? r.source]), [
    ["stampede.event.worker.started", "worker-1"],
    ["stampede.event.test.start", "coordinator"],
    ["stampede.event.spawn.complete", "coordinator"],
    ["stampede.request.metric.stats", "current"],
    ["stampede.system.metric.cpu", "coordinator"],
    ["stampede.system.metric.mem", "coordinator"],
    ["stampede.system.metric.network", "coordinator"],
    ["stampede.system.metric.event_loop_lag", "coordinator"],
    ["stampede.system.metric.cpu", "worker-1"],
    ["stampede.system.metric.mem", "worker-1"],
    ["stampede.event.cpu.warning", "worker-1"],
    ["stampede.event.worker.failed", "worker-2"],
    ["stampede.event.worker.lost", "host-b"],
    ["stampede.system.metric.cpu", "host-b"],
    ["stampede.system.metric.mem", "host-b"],
    ["stampede.system.metric.cpu", "host-b/worker-2"],
    ["stampede.request.metric.stats", "final"],
    ["stampede.request.metric.stats", "endpoint"],
    ["stampede.request.metric.stats", "endpoint"],
    ["stampede.event.test.stop", "coordinator"],
  ]);
});

Deno.test("request records: current window, final totals, one endpoint record per endpoint", () => {
  const { records } = recordRun(false);
  const byType = (t: string) => records.filter((r) => r.stats_type === t);
  const [current] = byType("current");
  assert.equal(current.requests, 31);
  assert.equal(current.failures, 1);
  assert.equal(current.users, 2);
  for (const p of PERCENTILES) assert.equal(typeof current[percentileKey(p)], "number");
  assert.ok("percentile_99_9_ms" in current);
  const [final] = byType("final");
  assert.equal(final.requests, 41);
  assert.equal(final.failures, 1);
  assert.equal(final.reason, "completed");
  assert.equal(final.hdr_histogram_us, undefined);
  const endpoints = byType("endpoint");
  const a = endpoints.find((e) => e.name === "/a");
  const cart = endpoints.find((e) => e.name === "/cart");
  assert.deepEqual([a.method, a.status, a.requests, a.errors], ["GET", "success", 40, []]);
  assert.deepEqual([cart.method, cart.status, cart.failures, cart.errors], [
    "POST",
    "error",
    1,
    [{ error: "HTTP 503", occurrences: 1 }],
  ]);
  assert.deepEqual(cart.status_codes, { "503": 1 });
});

Deno.test("events: test start has version and start time, a failed worker's message is `error`", () => {
  const { run, records } = recordRun(false);
  const start = records.find((r) => r.telemetry_name === "stampede.event.test.start");
  assert.equal(start.version, run.version);
  assert.equal(start.started_at, "2026-11-24T10:15:30.123Z");
  assert.equal(start.spawn_rate, null); // all at once
  const failed = records.find((r) => r.telemetry_name === "stampede.event.worker.failed");
  assert.equal(failed.level, "WARN");
  assert.equal(failed.error, "Error: boom");
  assert.equal(failed.message, "stampede.event.worker.failed");
});

Deno.test("--json-histograms: final records carry histograms that decode to their counts", () => {
  const { records } = recordRun(true);
  for (const r of records.filter((r) => r.stats_type === "final" || r.stats_type === "endpoint")) {
    assertValid(r);
    const histogram = decodeHistogram(r.hdr_histogram_us);
    assert.equal(histogram.totalCount, r.requests, `${r.stats_type} ${r.name}`);
    assert.equal(histogram.maxValue >= r.max_ms * 1000 * 0.999, true);
  }
});

Deno.test("a JSON file that cannot be opened is a usage error before the run", async () => {
  const run = createRunInfo({ testplan: "t", host: "http://h" });
  assert.throws(
    () =>
      jsonRecorder.create({
        run,
        options: { jsonFile: "/nonexistent-dir/x/out.ndjson" },
        percentiles: PERCENTILES,
        statsIntervalMs: 1000,
        stdout: { write: () => {}, isTerminal: false },
        stderr: { write: () => {}, isTerminal: false },
      }),
    /Cannot open JSON file "\/nonexistent-dir\/x\/out.ndjson"/,
  );
  const path = await Deno.makeTempFile({ suffix: ".ndjson" });
  try {
    const recorder = await jsonRecorder.create({
      run,
      options: { jsonFile: path },
      percentiles: PERCENTILES,
      statsIntervalMs: 1000,
      stdout: { write: () => assert.fail("wrote to stdout"), isTerminal: false },
      stderr: { write: () => {}, isTerminal: false },
    });
    recorder.lifecycle!.event({
      name: "worker_started",
      at: run.startedAt,
      source: "worker-1",
      data: {},
    });
    await recorder.output!.stop("completed");
    const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
    assert.equal(lines.length, 1);
    assertValid(JSON.parse(lines[0]));
  } finally {
    await Deno.remove(path);
  }
});
