// Ctrl-C and SIGTERM answer in every phase (loading the plan, here or in the load workers, and
// lingering after the run) with their exit codes and a summary; long durations do not overflow.
import assert from "node:assert/strict";
import { argv, freePort, ROOT, runCliWithSummary, startCountingServer } from "./helpers.ts";

const PLANS = `${ROOT}tests/plans`;

Deno.test("Ctrl-C while the plan loads: exit 130 at once, with a summary of a run that never started", async () => {
  const server = startCountingServer();
  try {
    const start = performance.now();
    const result = await runCliWithSummary(
      argv`${PLANS}/bad/never_loads.plan.ts --host ${server.url} --run-time 5s`,
      { signal: "SIGINT", signalAfterMs: 1500, timeoutMs: 20_000 },
    );
    assert.equal(result.code, 130, result.stderr);
    assert.ok(performance.now() - start < 10_000, "it did not wait for the load timeout");
    assert.doesNotMatch(result.stderr, /internal error/);
    assert.equal(result.summary.stop_reason, "interrupted");
    assert.equal(result.summary.totals.requests, 0);
    assert.equal(server.total(), 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("SIGTERM while the load workers load the plan: exit 143, with a summary", async () => {
  const server = startCountingServer();
  try {
    const result = await runCliWithSummary(
      argv`${PLANS}/never_loads_in_workers.plan.ts --host ${server.url} --run-time 5s --workers 2`,
      { signal: "SIGTERM", signalAfterMs: 2000, timeoutMs: 20_000 },
    );
    assert.equal(result.code, 143, result.stderr);
    assert.doesNotMatch(result.stderr, /internal error/);
    assert.equal(result.summary.stop_reason, "terminated");
    assert.equal(result.summary.totals.requests, 0);
    assert.equal(server.total(), 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("Ctrl-C while the Prometheus endpoint lingers: exit 130 at once; the summary was already written", async () => {
  const server = startCountingServer();
  try {
    const start = performance.now();
    const result = await runCliWithSummary(
      argv`${PLANS}/counting.plan.ts --host ${server.url} --run-time 1s --workers 1 --stop-timeout 5s --recorder console,prometheus --prometheus-listen 127.0.0.1:${freePort()} --prometheus-linger 60s`,
      { signal: "SIGINT", signalAfterMs: 5000, timeoutMs: 30_000 },
    );
    assert.equal(result.code, 130, result.stderr);
    assert.ok(performance.now() - start < 20_000, "the linger was cut short");
    // The run itself completed before the signal: its summary says so, and counts are exact.
    assert.equal(result.summary.stop_reason, "completed");
    assert.equal(result.summary.totals.requests, server.total());
    assert.ok(server.total() > 0);
    assert.ok(result.summary.problems.some((p) => /prometheus.*cut short by a signal/.test(p)));
  } finally {
    await server.shutdown();
  }
});

Deno.test("a run time longer than one timer holds (25d) runs until stopped, not for 1 ms", async () => {
  const server = startCountingServer();
  try {
    const result = await runCliWithSummary(
      argv`${PLANS}/counting.plan.ts --host ${server.url} --run-time 25d --workers 1 --stop-timeout 25d`,
      { signal: "SIGINT", signalAfterMs: 3000, timeoutMs: 30_000 },
    );
    assert.equal(result.code, 130, result.stderr);
    assert.equal(result.summary.stop_reason, "interrupted");
    assert.ok(result.summary.duration_s > 1, `ran ${result.summary.duration_s} s`);
    assert.equal(
      result.summary.workers_failed,
      0,
      "the stop timeout did not lose the last interval",
    );
    assert.equal(result.summary.totals.requests, server.total());
  } finally {
    await server.shutdown();
  }
});
