import assert from "node:assert/strict";
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import {
  AggregationTemporality,
  MeterProvider,
  type MetricData,
  type PushMetricExporter,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import { createHistogram, recordLatencyUs } from "../../core/stats/histogram.ts";
import { RecorderSet } from "../../core/recorder/recorder_set.ts";
import { createRunInfo } from "../../core/run_info.ts";
import type { IntervalCell, StatsView } from "../../core/stats/types.ts";
import { resolveOtelConfig } from "./config.ts";
import { OtelRecorder } from "./recorder.ts";
import { describeExportError, IntervalExportingReader } from "./reader.ts";

/** An exporter in memory that answers ok, fails, or never answers. */
class MemoryExporter implements PushMetricExporter {
  readonly exports: ResourceMetrics[] = [];
  shutdowns = 0;
  constructor(readonly answer: "ok" | "fail" | "hang" = "ok") {}
  export(metrics: ResourceMetrics, done: (result: ExportResult) => void): void {
    this.exports.push(metrics);
    if (this.answer === "ok") done({ code: ExportResultCode.SUCCESS });
    if (this.answer === "fail") {
      done({ code: ExportResultCode.FAILED, error: new Error("Service Unavailable") });
    }
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    this.shutdowns++;
    return Promise.resolve();
  }
  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.CUMULATIVE;
  }
}

const run = createRunInfo({
  testplan: "shop",
  host: "http://127.0.0.1:8000",
  tags: { env: "ci", "service.name": "not-this" },
});

function recorder(
  exporter: PushMetricExporter,
  env: Record<string, string> = {},
  options: Record<string, unknown> = { otelInterval: "1h" },
): OtelRecorder {
  return new OtelRecorder(run, resolveOtelConfig(options, (n) => env[n]), exporter);
}

function cell(name: string, status: number, latenciesUs: number[]): IntervalCell {
  const histogram = createHistogram();
  for (const us of latenciesUs) recordLatencyUs(histogram, us);
  return {
    method: "GET",
    name,
    status,
    failed: status >= 400,
    requests: latenciesUs.length,
    bytes: 0,
    histogram,
    sumUs: latenciesUs.reduce((a, b) => a + b, 0),
    minUs: latenciesUs.length > 0 ? Math.min(...latenciesUs) : 0,
    maxUs: latenciesUs.length > 0 ? Math.max(...latenciesUs) : 0,
  };
}

/** A view with nothing in it but the run's retries (what the recorder reads of the views). */
const viewWithRetries = (retries: number) => ({ total: { retries } }) as StatsView;
const EMPTY_VIEW = viewWithRetries(0);

/** Waits until `done()` holds, polling; fails after `timeoutMs`. */
async function waitFor(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function byName(metrics: ResourceMetrics): Map<string, MetricData> {
  const out = new Map<string, MetricData>();
  for (const scope of metrics.scopeMetrics) {
    for (const m of scope.metrics) out.set(m.descriptor.name, m);
  }
  return out;
}

Deno.test("one run in memory: resource, instruments, units and the final values", async () => {
  const exporter = new MemoryExporter();
  const r = recorder(exporter, {
    OTEL_SERVICE_NAME: "load",
    OTEL_RESOURCE_ATTRIBUTES: "team=perf,stampede.run_id=forged",
  });
  r.lifecycle.event({
    name: "test_start",
    at: "",
    source: "coordinator",
    data: { started_at: "", users: 3, spawn_rate: null, run_time_ms: null, workers: 2, host: "" },
  });
  r.request.interval({
    at: "",
    elapsedMs: 1000,
    runTimeMs: null,
    users: 3,
    usersByKind: { reader: 2, writer: 1 },
    workers: 2,
    window: EMPTY_VIEW,
    cumulative: viewWithRetries(1),
    cells: [cell("/a", 200, [1_000, 2_000]), cell("/a", 500, [9_000])],
    failures: [],
    checks: [{ name: "status is 200", passes: 3, fails: 1 }],
    iterations: [],
    targetRates: {},
  });
  r.system.samples([
    {
      at: "",
      source: "coordinator",
      cpuPercent: 25,
      rssBytes: 1e8,
      heapUsedBytes: 2e7,
      networkSentBytes: 100,
      networkReceivedBytes: 300,
      eventLoopLagP99Ms: 4,
    },
    { at: "", source: "worker-1", cpuPercent: 90 },
  ]);
  r.request.final({
    at: "",
    elapsedMs: 2000,
    reason: "completed",
    users: 3,
    usersByKind: {},
    cumulative: viewWithRetries(3),
    failures: [],
    cells: [cell("/a", 200, [3_000])],
    histograms: [],
    thresholds: [],
    checks: [{ name: "status is 200", passes: 7, fails: 2 }],
    iterations: [],
  });
  r.lifecycle.event({
    name: "test_stop",
    at: "",
    source: "coordinator",
    data: { reason: "completed", ended_at: "", duration_ms: 2000 },
  });
  await r.output.stop("completed");

  assert.equal(exporter.exports.length, 1, "one export, at the stop");
  assert.equal(exporter.shutdowns, 1);
  const [exported] = exporter.exports;
  const resource = exported.resource.attributes;
  assert.equal(resource["service.name"], "load");
  assert.equal(resource["service.version"], run.version);
  assert.equal(resource["service.instance.id"], run.runId);
  assert.equal(resource["stampede.run_id"], run.runId);
  assert.equal(resource["stampede.testplan"], "shop");
  assert.equal(resource["env"], "ci");
  assert.equal(resource["team"], "perf");
  assert.deepEqual(exported.scopeMetrics.map((s) => s.scope.name), ["stampede"]);

  const metrics = byName(exported);
  const units = Object.fromEntries([...metrics].map(([name, m]) => [name, m.descriptor.unit]));
  assert.deepEqual(units, {
    "stampede.users": "{user}",
    "stampede.workers": "{worker}",
    "stampede.checks": "{check}",
    "stampede.request.retries": "{request}",
    "stampede.events": "{event}",
    "stampede.process.cpu.utilization": "1",
    "stampede.process.memory.usage": "By",
    "stampede.process.heap.used": "By",
    "stampede.process.event_loop.lag.p99": "s",
    "stampede.network.io": "By",
    "stampede.request.duration": "s",
    "stampede.requests": "{request}",
    "stampede.request.failures": "{request}",
    "stampede.data.received": "By",
  });
  const points = (name: string) =>
    metrics.get(name)!.dataPoints.map((p) => [JSON.stringify(p.attributes), p.value]);
  assert.deepEqual(points("stampede.users").sort(), [
    ['{"kind":"reader"}', 0],
    ['{"kind":"writer"}', 0],
  ]);
  assert.deepEqual(points("stampede.workers"), [["{}", 0]]);
  // The counter adds what is new each time: the run's counts at the end.
  assert.deepEqual(points("stampede.checks").sort(), [
    ['{"check":"status is 200","result":"fail"}', 2],
    ['{"check":"status is 200","result":"pass"}', 7],
  ]);
  assert.deepEqual(points("stampede.request.retries"), [["{}", 3]]);
  assert.deepEqual(points("stampede.events").sort(), [
    ['{"event":"test_start","source":"coordinator"}', 1],
    ['{"event":"test_stop","source":"coordinator"}', 1],
  ]);
  assert.deepEqual(points("stampede.process.cpu.utilization").sort(), [
    ['{"source":"coordinator"}', 0.25],
    ['{"source":"worker-1"}', 0.9],
  ]);
  assert.deepEqual(points("stampede.process.event_loop.lag.p99"), [[
    '{"source":"coordinator"}',
    0.004,
  ]]);
  assert.deepEqual(points("stampede.network.io").sort(), [
    ['{"source":"coordinator","network.io.direction":"receive"}', 300],
    ['{"source":"coordinator","network.io.direction":"transmit"}', 100],
  ]);
  const durations = metrics.get("stampede.request.duration")!.dataPoints;
  const counts = durations.map((
    p,
  ) => [p.attributes.status_code, (p.value as { count: number }).count]);
  assert.deepEqual(counts.sort(), [[200, 3], [500, 1]]);
  assert.deepEqual(r.problems(), []);
});

Deno.test("failed exports are counted, reported in problems, and never thrown", async () => {
  const exporter = new MemoryExporter("fail");
  const r = recorder(exporter);
  r.request.final({
    at: "",
    elapsedMs: 1,
    reason: "completed",
    users: 0,
    usersByKind: {},
    cumulative: EMPTY_VIEW,
    failures: [],
    cells: [cell("/a", 200, [1_000])],
    histograms: [],
    thresholds: [],
    checks: [],
    iterations: [],
  });
  const set = new RecorderSet([{ id: "otel", recorder: r }]);
  await set.stop("completed");
  assert.equal(r.exportStats.failures, 1);
  assert.deepEqual(set.problems, [
    'recorder "otel": 1 of 1 metric exports to "http://localhost:4318/v1/metrics" failed (last: Error: Service Unavailable)',
  ]);
});

Deno.test("a collector that never answers holds the stop no longer than the timeout", async () => {
  const exporter = new MemoryExporter("hang");
  const r = recorder(exporter, { OTEL_EXPORTER_OTLP_TIMEOUT: "200" });
  r.lifecycle.event({
    name: "test_stop",
    at: "",
    source: "coordinator",
    data: { reason: "completed", ended_at: "", duration_ms: 0 },
  });
  const started = performance.now();
  await r.output.stop("completed");
  const tookMs = performance.now() - started;
  assert.ok(tookMs < 3_000, `stop took ${tookMs} ms`);
  assert.equal(r.exportStats.failures, 1);
  assert.match(r.problems()[0], /last: the last export did not finish within 200 ms/);
});

Deno.test("a slow export is never doubled: intervals are skipped while one is in flight", async () => {
  const exporter = new MemoryExporter("hang");
  const r = recorder(exporter, { OTEL_EXPORTER_OTLP_TIMEOUT: "100" }, { otelInterval: "100ms" });
  r.lifecycle.event({
    name: "test_start",
    at: "",
    source: "coordinator",
    data: { started_at: "", users: 3, spawn_rate: null, run_time_ms: null, workers: 2, host: "" },
  });
  await waitFor(() => exporter.exports.length > 0);
  await new Promise((resolve) => setTimeout(resolve, 350));
  assert.equal(exporter.exports.length, 1, "the first export still hangs: no second one");
  await r.output.stop("completed");
  assert.equal(exporter.exports.length, 2, "the last export does not wait for the hung one");
});

Deno.test("an export that outlasts an interval is reported once per interval", async () => {
  const stalls: number[] = [];
  const exporter = new MemoryExporter("hang");
  const reader = new IntervalExportingReader({
    exporter,
    intervalMs: 100,
    onStalled: (runningMs) => stalls.push(runningMs),
  });
  const provider = new MeterProvider({ readers: [reader] });
  provider.getMeter("test").createCounter("c").add(1);
  await waitFor(() => stalls.length >= 2);
  assert.equal(exporter.exports.length, 1);
  assert.ok(stalls.every((ms, i) => i === 0 || ms > stalls[i - 1]), "time in flight grows");
  assert.equal(await reader.finish(50), false);
  assert.equal(reader.stats.failures, 2, "the hung export and the last one");
  await provider.shutdown();
});

Deno.test("export errors say what the collector answered", () => {
  const http = Object.assign(new Error("Internal Server Error"), { code: 500 });
  assert.equal(describeExportError(http), "HTTP 500 (Error: Internal Server Error)");
  assert.match(
    describeExportError(new Error("Export failed with retryable status")),
    /429\/502\/503\/504/,
  );
  assert.equal(
    describeExportError(new Error("connect ECONNREFUSED 127.0.0.1:9")),
    "Error: connect ECONNREFUSED 127.0.0.1:9",
  );
});
