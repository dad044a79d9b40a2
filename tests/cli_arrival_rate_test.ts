// The open model end to end: the target's own clock and count against the configured schedule,
// a target that stalls (coordinated omission), and the iteration limit.
import assert from "node:assert/strict";
import { endpointStats } from "../core/stats/test_fixtures.ts";
import { createRunInfo } from "../core/run_info.ts";
import { createHistogram, recordLatencyUs } from "../core/stats/histogram.ts";
import { PrometheusMetrics } from "../recorders/prometheus/metrics.ts";
import { argv, ROOT, runCliWithSummary, startCountingServer, tempDir } from "./helpers.ts";
import { readRecords } from "./json_records.ts";
import { promtoolCheckMetrics } from "./prometheus_helpers.ts";

const PLAN = `${ROOT}tests/plans/one_request.plan.ts`;

/**
 * A target that notes when (its own clock) each request arrived; `handle` gets the time since
 * the first request of the current run (`restart()` starts the clock again).
 */
function timedTarget(handle?: (sinceFirstMs: number) => Promise<void> | void) {
  const arrivals: number[] = [];
  let firstMs: number | null = null;
  const server = startCountingServer(async () => {
    const now = performance.now();
    arrivals.push(now);
    firstMs ??= now;
    await handle?.(now - firstMs);
    return new Response("ok");
  });
  return { server, arrivals, restart: () => firstMs = null };
}

for (const workers of [1, 2]) {
  Deno.test(`arrival rate, ${workers} worker(s): 1000/s as the target saw it, each second within 1 %, rate × duration iterations`, async () => {
    const { server, arrivals } = timedTarget();
    try {
      const result = await runCliWithSummary(
        argv`${PLAN} --host ${server.url} --arrival-rate 1000/s --users 20 --run-time 7s --workers ${workers}`,
      );
      assert.equal(result.code, 0, result.stderr);
      const { totals } = result.summary;
      assert.equal(totals.iterations + totals.dropped_iterations, 7000, "rate × duration");
      assert.equal(totals.dropped_iterations, 0);
      assert.equal(server.total(), totals.iterations);
      assert.equal(totals.requests + totals.aborted, server.total());
      // Each second after the first two, by the target's clock from the first arrival. Warm-up is
      // two seconds: iterations the generator started late in its first second (the JIT) are
      // started as soon as it can, within --max-lateness, and some arrive in the second after it
      // (second 1 had 1013 and 1014 requests in two failed runs).
      const first = arrivals[0];
      for (let second = 2; second < 6; second++) {
        const n = arrivals.filter((t) =>
          t >= first + second * 1000 && t < first + (second + 1) * 1000
        )
          .length;
        assert.ok(Math.abs(n - 1000) <= 10, `second ${second}: ${n} requests`);
      }
    } finally {
      await server.shutdown();
    }
  });
}

Deno.test("coordinated omission: a target that stalls 1 s in 5; corrected latency shows it, service time does not; with no lateness, drops are exact", async () => {
  // A request arriving in the first second of each 5 s period (from the run's first request) is
  // answered when that second ends.
  const stall = (sinceMs: number) => {
    const inPeriod = sinceMs % 5000;
    return inPeriod < 1000 ? new Promise<void>((r) => setTimeout(r, 1000 - inPeriod)) : undefined;
  };
  const { server, restart } = timedTarget(stall);
  try {
    const late = await runCliWithSummary(
      argv`${PLAN} --host ${server.url} --arrival-rate 200/s --users 4 --max-lateness 2s --run-time 15s --workers 1`,
    );
    assert.equal(late.code, 0, late.stderr);
    const t = late.summary.totals;
    assert.equal(t.dropped_iterations, 0);
    assert.equal(t.iterations, 3000);
    assert.ok(
      t.corrected_percentiles_ms!["99"] >= 800,
      `corrected p99 ${t.corrected_percentiles_ms!["99"]}`,
    );
    assert.ok(t.percentiles_ms["99"] < 100, `service p99 ${t.percentiles_ms["99"]}`);
    assert.ok(t.corrected_max_ms! >= t.max_ms);
    assert.ok(late.summary.endpoints[0].corrected_percentiles_ms !== undefined);

    const before = server.total();
    restart();
    const strict = await runCliWithSummary(
      argv`${PLAN} --host ${server.url} --arrival-rate 200/s --users 4 --max-lateness 0 --run-time 15s --workers 1`,
    );
    assert.equal(strict.code, 0, strict.stderr);
    const s = strict.summary.totals;
    assert.ok(s.dropped_iterations > 0, "a stall with lateness 0 drops");
    assert.equal(s.iterations + s.dropped_iterations, 3000, "scheduled = started + dropped");
    assert.equal(server.total() - before, s.iterations);
    assert.match(strict.stderr, /iterations were dropped/);
  } finally {
    await server.shutdown();
  }
});

for (const workers of [1, 2, 4]) {
  Deno.test(`--iterations 500 with ${workers} worker(s): the target sees exactly 500 requests; stop reason iterations`, async () => {
    const server = startCountingServer();
    try {
      const result = await runCliWithSummary(
        argv`${PLAN} --host ${server.url} --users 8 --iterations 500 --workers ${workers} --run-time 60s`,
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(server.total(), 500);
      assert.equal(result.summary.totals.iterations, 500);
      assert.equal(result.summary.totals.requests, 500);
      assert.equal(result.summary.stop_reason, "iterations");
      assert.ok(result.summary.duration_s < 30, `${result.summary.duration_s}s`);
    } finally {
      await server.shutdown();
    }
  });
}

Deno.test("--iterations with an arrival rate: exactly N started, then the run ends", async () => {
  const server = startCountingServer();
  try {
    const result = await runCliWithSummary(
      argv`${PLAN} --host ${server.url} --arrival-rate 500/s --users 5 --iterations 300 --workers 2 --run-time 30s`,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(server.total(), 300);
    assert.equal(result.summary.totals.iterations, 300);
    assert.equal(result.summary.stop_reason, "iterations");
    assert.ok(result.summary.duration_s < 10, `${result.summary.duration_s}s`);
  } finally {
    await server.shutdown();
  }
});

Deno.test("mixed plan: a closed kind, an arrival-rate kind and a paced one, each under its own name, on valid records", async () => {
  const server = startCountingServer();
  const dir = await tempDir();
  try {
    const records = `${dir.path}/records.jsonl`;
    const result = await runCliWithSummary(
      argv`${ROOT}tests/plans/mixed_models.plan.ts --host ${server.url} --run-time 3s --workers 2 --recorder json --json-file ${records}`,
    );
    assert.equal(result.code, 0, result.stderr);
    const { summary } = result;
    // The arrival-rate kind: exactly 50/s for 3 s.
    assert.equal(server.counts.get("POST /buy") ?? 0, 150);
    // The paced user: one iteration every 100 ms.
    const pings = server.counts.get("GET /ping") ?? 0;
    assert.ok(pings >= 28 && pings <= 31, `${pings} pings`);
    assert.ok((server.counts.get("GET /page") ?? 0) > 0);
    assert.equal(summary.totals.iterations, server.total());
    // Every request the target got is counted, or counted as cut off by the stop.
    assert.equal(summary.totals.requests + summary.totals.aborted, server.total());
    assert.deepEqual(summary.users, 2 + 1 + 2, "closed users, the fixed one and the pool");
    const row = (name: string) => summary.endpoints.find((e) => e.name === name)!;
    // Corrected latency where the due time is known: arrival rates and pacing, not think time.
    assert.ok(row("/buy").corrected_percentiles_ms !== undefined);
    assert.ok(row("/ping").corrected_percentiles_ms !== undefined);
    assert.equal(row("/page").corrected_percentiles_ms, undefined);

    const all = await readRecords(records);
    const current = all.filter((r) => r.stats_type === "current");
    assert.ok(current.length >= 2);
    assert.deepEqual(current.at(-1)!.target_rates, { checkout: 50 });
    assert.deepEqual(Object.keys(current.at(-1)!.users_by_kind).sort(), [
      "browser",
      "checkout",
      "paced",
    ]);
    const buy = all.find((r) => r.stats_type === "endpoint" && r.name === "/buy")!;
    assert.equal(buy.requests, 150);
    assert.ok(buy.corrected_percentile_99_ms >= buy.percentile_99_ms);
    const final = all.find((r) => r.stats_type === "final")!;
    assert.equal(final.iterations, summary.totals.iterations);
    assert.equal(final.dropped_iterations, 0);
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});

Deno.test("the Prometheus exposition of an open-model run passes promtool", async () => {
  const metrics = new PrometheusMetrics({
    run: createRunInfo({ testplan: "t", host: "http://x" }),
    percentiles: [50],
  });
  const histogram = createHistogram();
  recordLatencyUs(histogram, 1_000);
  metrics.interval({
    at: new Date().toISOString(),
    elapsedMs: 1000,
    runTimeMs: null,
    users: 2,
    usersByKind: { api: 2 },
    workers: 1,
    window: { durationMs: 1000, total: endpointStats(), endpoints: [] },
    cumulative: { durationMs: 1000, total: endpointStats(), endpoints: [] },
    cells: [{
      method: "GET",
      name: "/",
      status: 200,
      failed: false,
      requests: 1,
      bytes: 2,
      histogram,
      sumUs: 1000,
      minUs: 1000,
      maxUs: 1000,
      correctedHistogram: histogram,
      correctedMaxUs: 1000,
    }],
    failures: [],
    checks: [],
    iterations: [{ kind: "api", started: 1, dropped: 1 }],
    targetRates: { api: 100 },
  });
  const { code, output } = await promtoolCheckMetrics(metrics.render());
  assert.equal(code, 0, output);
});

Deno.test("iterations in flight at the stop: waited for within --stop-timeout, else cut off and counted as aborted; never lost", async () => {
  const server = startCountingServer(async () => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return new Response("ok");
  });
  try {
    for (const stopTimeout of ["0s", "2s"]) {
      const before = server.total();
      const result = await runCliWithSummary(
        argv`${PLAN} --host ${server.url} --arrival-rate 50/s --users 20 --run-time 1s --stop-timeout ${stopTimeout} --workers 1`,
      );
      assert.equal(result.code, 0, result.stderr);
      await new Promise((resolve) => setTimeout(resolve, 400)); // cut-off requests still arrive
      const t = result.summary.totals;
      const received = server.total() - before;
      assert.equal(t.iterations, received, stopTimeout);
      assert.equal(t.requests + t.aborted, received, stopTimeout);
      if (stopTimeout === "0s") assert.ok(t.aborted > 0, "some were in flight at the stop");
      else assert.equal(t.aborted, 0, "a stop timeout lets them finish");
    }
  } finally {
    await server.shutdown();
  }
});
