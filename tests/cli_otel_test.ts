// The otel recorder end to end: cli.ts runs a plan against a counting target and exports to a
// test OTLP receiver that decodes with its own protobuf definitions; the exported histograms
// must hold exactly the counts the target saw and the summary reports.
import assert from "node:assert/strict";
import type { Summary } from "../core/stats/summary.ts";
import {
  type CountingServer,
  readSummary,
  ROOT,
  runCli,
  startCountingServer,
  tempDir,
} from "./helpers.ts";
import {
  latestPoints,
  metricsNamed,
  type OtlpReceiver,
  type ReceivedExport,
  startOtlpReceiver,
} from "./otlp_receiver.ts";

const PLAN = `${ROOT}tests/plans/otel_plan.ts`;
const RUN_TIME_S = 3;

function target(): CountingServer {
  return startCountingServer((_req, url) =>
    url.pathname === "/missing" ? new Response("no", { status: 404 }) : new Response("ok")
  );
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  summary: Summary;
  wallS: number;
}

async function runWithOtel(
  server: CountingServer,
  args: string[],
  env: Record<string, string> = {},
): Promise<Outcome> {
  const dir = await tempDir();
  try {
    const started = performance.now();
    const result = await runCli([
      PLAN,
      "--host",
      server.url,
      "--workers",
      "2",
      "--run-time",
      `${RUN_TIME_S}s`,
      "--stop-timeout",
      "2s",
      "--recorder",
      "console,otel",
      // The plan's task exceptions are failures; the exit code here says what telemetry did.
      "--exit-code-on-error",
      "0",
      "--summary",
      `${dir.path}/summary.json`,
      ...args,
    ], { env });
    const wallS = (performance.now() - started) / 1000;
    return { ...result, summary: await readSummary(`${dir.path}/summary.json`), wallS };
  } finally {
    await dir.remove();
  }
}

/** Sum of the latest cumulative histogram counts per "METHOD name". */
function exportedDurationCounts(exports: ReceivedExport[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const p of latestPoints(exports, "stampede.request.duration").values()) {
    const key = `${p.attributes.method} ${p.attributes.name}`;
    counts.set(key, (counts.get(key) ?? 0) + p.count!);
  }
  return counts;
}

function summaryCounts(summary: Summary): Map<string, number> {
  return new Map(summary.endpoints.map((e) => [`${e.method} ${e.name}`, e.requests]));
}

function checkExactCounts(rx: OtlpReceiver, server: CountingServer, summary: Summary): void {
  assert.deepEqual(rx.errors, []);
  const exported = exportedDurationCounts(rx.exports);
  const served = new Map(server.counts);
  assert.ok(server.total() > 100, `only ${server.total()} requests`);
  assert.deepEqual(exported, served, "exported histogram counts = what the target saw");
  const reported = summaryCounts(summary);
  reported.delete("TASK boom"); // a task exception: a request row with no latency
  assert.deepEqual(exported, reported, "exported histogram counts = the summary's");
  // The request counter counts every row, the task exceptions too.
  let requests = 0;
  for (const p of latestPoints(rx.exports, "stampede.requests").values()) requests += p.value!;
  assert.equal(requests, summary.totals.requests);
  let failures = 0;
  for (const p of latestPoints(rx.exports, "stampede.request.failures").values()) {
    failures += p.value!;
  }
  assert.equal(failures, summary.totals.failures);
}

function checkSums(rx: OtlpReceiver, summary: Summary): void {
  // Exact sums in seconds: the summary's mean (ms, 3 decimals) times the count.
  for (const e of summary.endpoints.filter((e) => e.method !== "TASK")) {
    let count = 0;
    let sumS = 0;
    for (const p of latestPoints(rx.exports, "stampede.request.duration").values()) {
      if (p.attributes.name !== e.name || p.attributes.method !== e.method) continue;
      count += p.count!;
      sumS += p.sum!;
    }
    const meanMs = (sumS / count) * 1000;
    assert.ok(Math.abs(meanMs - e.mean_ms) < 0.001, `${e.name}: ${meanMs} vs ${e.mean_ms}`);
  }
}

Deno.test("protobuf: exported histograms hold exactly the target's and the summary's counts", async () => {
  const rx = startOtlpReceiver();
  const server = target();
  try {
    const outcome = await runWithOtel(
      server,
      [
        "--otel-endpoint",
        rx.url,
        "--otel-protocol",
        "http/protobuf",
        "--otel-interval",
        "1s",
        "--tag",
        "env=ci",
        "--tag",
        "team=perf",
      ],
      {
        OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20s3cret",
        OTEL_SERVICE_NAME: "shop-load",
        OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=staging",
        // The flag wins over the variables.
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1",
      },
    );
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.doesNotMatch(outcome.stderr, /Cannot export metrics|Metrics export to/);
    assert.match(outcome.stdout, /Aggregated/);
    assert.deepEqual(outcome.summary.problems, []);
    assert.ok(rx.exports.length >= 2, `${rx.exports.length} exports`);
    checkExactCounts(rx, server, outcome.summary);
    checkSums(rx, outcome.summary);

    const last = rx.exports.at(-1)!;
    assert.equal(last.contentType, "application/x-protobuf");
    assert.equal(last.headers.get("authorization"), "Bearer s3cret");
    assert.equal(last.resource["service.name"], "shop-load");
    assert.equal(last.resource["stampede.run_id"], outcome.summary.run_id);
    assert.equal(last.resource["service.instance.id"], outcome.summary.run_id);
    assert.equal(last.resource["stampede.testplan"], "otel-e2e");
    assert.equal(last.resource["env"], "ci");
    assert.equal(last.resource["team"], "perf");
    assert.equal(last.resource["deployment.environment.name"], "staging");
    assert.deepEqual(last.scopes.map((s) => s.name), ["stampede"]);

    const units = new Map(last.metrics.map((m) => [m.name, [m.unit, m.type]]));
    assert.deepEqual(units.get("stampede.request.duration"), ["s", "histogram"]);
    assert.deepEqual(units.get("stampede.requests"), ["{request}", "sum"]);
    assert.deepEqual(units.get("stampede.request.failures"), ["{request}", "sum"]);
    assert.deepEqual(units.get("stampede.users"), ["{user}", "gauge"]);
    assert.deepEqual(units.get("stampede.workers"), ["{worker}", "gauge"]);
    assert.deepEqual(units.get("stampede.events"), ["{event}", "sum"]);
    const duration = last.metrics.find((m) => m.name === "stampede.request.duration")!;
    assert.equal(duration.temporality, 2, "cumulative");
    const missing = duration.points.find((p) => p.attributes.name === "/missing")!;
    assert.deepEqual(missing.attributes, {
      name: "/missing",
      method: "GET",
      status_code: 404,
      outcome: "failure",
    });
    assert.equal(missing.explicitBounds!.length + 1, missing.bucketCounts!.length);
    assert.equal(missing.bucketCounts!.reduce((a, b) => a + b, 0), missing.count);
    // Every lifecycle event of the run, counted once.
    const events = new Map(
      [...latestPoints(rx.exports, "stampede.events").values()].map((p) => [
        `${p.attributes.event} ${p.attributes.source}`,
        p.value,
      ]),
    );
    for (
      const name of [
        "test_start coordinator",
        "test_stop coordinator",
        "worker_started worker-1",
        "worker_started worker-2",
      ]
    ) {
      assert.equal(events.get(name), 1, name);
    }
    const peak = Math.max(
      ...metricsNamed(rx.exports, "stampede.workers").flatMap((m) => m.points.map((p) => p.value!)),
    );
    assert.equal(peak, 2);
  } finally {
    await rx.shutdown();
    await server.shutdown();
  }
});

Deno.test("JSON from OTEL_* variables, exponential histograms: the same exact counts", async () => {
  const rx = startOtlpReceiver();
  const server = target();
  try {
    const outcome = await runWithOtel(server, ["--otel-histogram", "exponential"], {
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${rx.url}/v1/metrics`,
      OTEL_METRIC_EXPORT_INTERVAL: "1000",
    });
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.deepEqual(outcome.summary.problems, []);
    assert.ok(rx.exports.length >= 2, `${rx.exports.length} exports`);
    assert.ok(rx.exports.every((e) => e.contentType === "application/json"));
    const duration = rx.exports.at(-1)!.metrics.find((m) =>
      m.name === "stampede.request.duration"
    )!;
    assert.equal(duration.type, "exponentialHistogram");
    assert.equal(duration.unit, "s");
    for (const p of duration.points) {
      assert.equal(p.positive!.bucketCounts.reduce((a, b) => a + b, 0), p.count);
      assert.ok(p.positive!.bucketCounts.length <= 160);
    }
    checkExactCounts(rx, server, outcome.summary);
    checkSums(rx, outcome.summary);
  } finally {
    await rx.shutdown();
    await server.shutdown();
  }
});

Deno.test("a collector answering 503: the run ends on time, exports failures are warned and summed", async () => {
  const rx = startOtlpReceiver({ status: 503 });
  const server = target();
  try {
    const outcome = await runWithOtel(
      server,
      ["--otel-endpoint", rx.url, "--otel-interval", "1s"],
      { OTEL_EXPORTER_OTLP_TIMEOUT: "1500" },
    );
    assert.equal(outcome.code, 0, "telemetry failures do not change the exit code");
    assert.match(outcome.stdout, /Aggregated/);
    assert.equal(
      outcome.summary.totals.requests - (summaryCounts(outcome.summary).get("TASK boom") ?? 0),
      server.total(),
    );
    assert.ok(outcome.summary.duration_s < RUN_TIME_S + 3, `${outcome.summary.duration_s} s`);
    assert.ok(rx.requests >= 2, `${rx.requests} export requests reached the receiver`);
    const warnings = outcome.stderr.split("\n").filter((l) => /Cannot export metrics to/.test(l));
    assert.equal(warnings.length, 1, `said once, not once per export:\n${outcome.stderr}`);
    assert.match(
      warnings[0],
      /^stampede: warning: Cannot export metrics to "http:\/\/127\.0\.0\.1:\d+\/v1\/metrics": .*429\/502\/503\/504.*; later failures are counted, not repeated, and the run goes on$/,
    );
    const problem = outcome.summary.problems.find((p) => p.startsWith('recorder "otel"'));
    assert.match(problem ?? "", /^recorder "otel": (\d+) of \1 metric exports to ".*" failed/);
  } finally {
    await rx.shutdown();
    await server.shutdown();
  }
});

Deno.test("nothing listening, default timeout: the run ends on time, the last export is bounded", async () => {
  const refused = startCountingServer();
  const deadPort = refused.port;
  await refused.shutdown();
  const server = target();
  try {
    const outcome = await runWithOtel(server, [
      "--otel-endpoint",
      `http://127.0.0.1:${deadPort}`,
      "--otel-interval",
      "1s",
    ]);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.match(outcome.stdout, /Aggregated/);
    assert.ok(outcome.summary.duration_s < RUN_TIME_S + 3, `${outcome.summary.duration_s} s`);
    // Start-up, the run, the workers' stop and the 10 s OTLP timeout of the last export.
    assert.ok(outcome.wallS < RUN_TIME_S + 20, `the process took ${outcome.wallS} s`);
    // While the exporter retries the refused connection, that is said once.
    const stalled = outcome.stderr.match(
      /stampede: warning: Metrics export to ".*" has not finished after \d+\.\d s: the collector is down or slow/g,
    );
    assert.equal(stalled?.length, 1, outcome.stderr);
    // An export fails within the OTLP timeout: refused after retries, or cut off by it.
    assert.match(
      outcome.stderr,
      /Cannot export metrics to ".*": (.*ECONNREFUSED.*|the last export did not finish within 10000 ms); later failures are counted/,
    );
    const problem = outcome.summary.problems.find((p) => p.startsWith('recorder "otel"'));
    assert.match(
      problem ?? "",
      /^recorder "otel": (\d+) of \1 metric exports to "http:\/\/127\.0\.0\.1:\d+\/v1\/metrics" failed/,
    );
    assert.doesNotMatch(outcome.summary.problems.join("\n"), /did not answer within/, "never hung");
  } finally {
    await server.shutdown();
  }
});

Deno.test("a bad OTEL_* value stops the run before the first request, exit code 2", async () => {
  const server = target();
  try {
    const result = await runCli(
      [PLAN, "--host", server.url, "--workers", "1", "--run-time", "1s", "--recorder", "otel"],
      { env: { OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" } },
    );
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /^stampede: error: Cannot use OTEL_EXPORTER_OTLP_PROTOCOL "grpc": expected http\/protobuf or http\/json/m,
    );
    assert.equal(server.total(), 0);
  } finally {
    await server.shutdown();
  }
});
