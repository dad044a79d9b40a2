// Workers survive stray errors; a worker that goes silent is reported lost and the run goes on.
import assert from "node:assert/strict";
import { argv, ROOT, runCliWithSummary, startCountingServer } from "./helpers.ts";

const PLAN = `${ROOT}tests/plans/crash.plan.ts`;

Deno.test("an error thrown outside a task is reported and the worker keeps running", async () => {
  const server = startCountingServer();
  try {
    const { code, stderr, summary } = await runCliWithSummary(
      argv`${PLAN} --host ${server.url} --workers 2 --run-time 2s --stop-timeout 1s`,
      { env: { CRASH_WORKERS: "2", CRASH_MODE: "throw" } },
    );
    assert.equal(code, 0, stderr);
    assert.match(stderr, /worker-2: uncaught error outside a task: .*kaboom/);
    assert.match(stderr, /further ones are not reported/);
    assert.equal(summary.workers_failed, 0);
    assert.equal(summary.totals.requests, server.total(), "every request is still counted");
  } finally {
    await server.shutdown();
  }
});

Deno.test("a worker that goes silent is reported lost; the run completes; exit code 4", async () => {
  const server = startCountingServer();
  try {
    const { code, stderr, summary } = await runCliWithSummary(
      argv`${PLAN} --host ${server.url} --workers 2 --run-time 7s --stop-timeout 1s --stats-interval 200ms`,
      { env: { CRASH_WORKERS: "2", CRASH_MODE: "close" } },
    );
    assert.equal(code, 4, stderr);
    assert.match(stderr, /Load worker failed: worker-2: sent nothing for \d+\.\d s; it is lost/);
    assert.equal(summary.stop_reason, "completed");
    assert.equal(summary.workers_failed, 1);
    assert.ok(summary.problems.some((p) => p.startsWith("worker-2: sent nothing")));
    // worker 1 went on; worker 2's last interval is lost, never double counted
    const served = server.total();
    assert.ok(summary.totals.requests > served / 2, `${summary.totals.requests} of ${served}`);
    assert.ok(summary.totals.requests <= served);
  } finally {
    await server.shutdown();
  }
});

Deno.test("every worker lost: the run stops early with reason failed and exit code 4", async () => {
  const server = startCountingServer();
  try {
    const { code, stderr, summary } = await runCliWithSummary(
      argv`${PLAN} --host ${server.url} --workers 2 --run-time 30s --stats-interval 200ms`,
      { env: { CRASH_WORKERS: "1,2", CRASH_MODE: "close" } },
    );
    assert.equal(code, 4, stderr);
    assert.equal(summary.stop_reason, "failed");
    assert.equal(summary.workers_failed, 2);
    assert.ok(summary.duration_s < 15, `stopped after ${summary.duration_s}s`);
  } finally {
    await server.shutdown();
  }
});

Deno.test("SIGTERM stops the run gracefully with exit code 143", async () => {
  const server = startCountingServer();
  try {
    const { code, stderr, summary } = await runCliWithSummary(
      argv`${ROOT}tests/plans/counting.plan.ts --host ${server.url} --workers 1 --run-time 30s --stop-timeout 2s`,
      { signal: "SIGTERM", signalAfterMs: 2000 },
    );
    assert.equal(code, 143, stderr);
    assert.equal(summary.stop_reason, "terminated");
    assert.equal(summary.totals.requests, server.total());
  } finally {
    await server.shutdown();
  }
});
