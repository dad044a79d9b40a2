// The open model end to end: the target's own clock and count against the configured schedule,
// a target that stalls (coordinated omission), and the iteration limit.
import assert from "node:assert/strict";
import { argv, ROOT, runCliWithSummary, startCountingServer } from "./helpers.ts";

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
        argv`${PLAN} --host ${server.url} --arrival-rate 1000/s --users 20 --run-time 6s --workers ${workers}`,
      );
      assert.equal(result.code, 0, result.stderr);
      const { totals } = result.summary;
      assert.equal(totals.iterations + totals.dropped_iterations, 6000, "rate × duration");
      assert.equal(totals.dropped_iterations, 0);
      assert.equal(server.total(), totals.iterations);
      assert.equal(totals.requests, server.total());
      // Each second after the first (warm-up), by the target's clock from the first arrival.
      const first = arrivals[0];
      for (let second = 1; second < 5; second++) {
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
