// Workers survive stray errors; a worker that goes silent is reported lost and the run goes on.
import assert from "node:assert/strict";
import { readSummary, ROOT, runCli, startCountingServer, tempDir } from "./helpers.ts";

const PLAN = `${ROOT}tests/plans/crash.plan.ts`;

Deno.test("an error thrown outside a task is reported and the worker keeps running", async () => {
  const server = startCountingServer();
  const dir = await tempDir();
  try {
    const result = await runCli([
      PLAN,
      "--host",
      server.url,
      "--workers",
      "2",
      "--run-time",
      "2s",
      "--stop-timeout",
      "1s",
      "--summary",
      `${dir.path}/summary.json`,
    ], { env: { CRASH_WORKERS: "2", CRASH_MODE: "throw" } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /worker-2: uncaught error outside a task: .*kaboom/);
    assert.match(result.stderr, /further ones are not reported/);
    const summary = await readSummary(`${dir.path}/summary.json`);
    assert.equal(summary.workers_failed, 0);
    assert.equal(summary.totals.requests, server.total(), "every request is still counted");
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});

Deno.test("a worker that goes silent is reported lost; the run completes; exit code 4", async () => {
  const server = startCountingServer();
  const dir = await tempDir();
  try {
    const result = await runCli([
      PLAN,
      "--host",
      server.url,
      "--workers",
      "2",
      "--run-time",
      "7s",
      "--stop-timeout",
      "1s",
      "--stats-interval",
      "200ms",
      "--summary",
      `${dir.path}/summary.json`,
    ], { env: { CRASH_WORKERS: "2", CRASH_MODE: "close" } });
    assert.equal(result.code, 4, result.stderr);
    assert.match(
      result.stderr,
      /Load worker failed: worker-2: sent nothing for \d+\.\d s; it is lost/,
    );
    const summary = await readSummary(`${dir.path}/summary.json`);
    assert.equal(summary.stop_reason, "completed");
    assert.equal(summary.workers_failed, 1);
    assert.ok(summary.problems.some((p) => p.startsWith("worker-2: sent nothing")));
    // worker 1 went on; worker 2's last interval is lost, never double counted
    const served = server.total();
    assert.ok(summary.totals.requests > served / 2, `${summary.totals.requests} of ${served}`);
    assert.ok(summary.totals.requests <= served);
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});

Deno.test("every worker lost: the run stops early with reason failed and exit code 4", async () => {
  const server = startCountingServer();
  const dir = await tempDir();
  try {
    const result = await runCli([
      PLAN,
      "--host",
      server.url,
      "--workers",
      "2",
      "--run-time",
      "30s",
      "--stats-interval",
      "200ms",
      "--summary",
      `${dir.path}/summary.json`,
    ], { env: { CRASH_WORKERS: "1,2", CRASH_MODE: "close" } });
    assert.equal(result.code, 4, result.stderr);
    const summary = await readSummary(`${dir.path}/summary.json`);
    assert.equal(summary.stop_reason, "failed");
    assert.equal(summary.workers_failed, 2);
    assert.ok(summary.duration_s < 15, `stopped after ${summary.duration_s}s`);
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});

Deno.test("SIGTERM stops the run gracefully with exit code 143", async () => {
  const server = startCountingServer();
  const dir = await tempDir();
  try {
    const result = await runCli([
      `${ROOT}tests/plans/counting.plan.ts`,
      "--host",
      server.url,
      "--workers",
      "1",
      "--run-time",
      "30s",
      "--stop-timeout",
      "2s",
      "--summary",
      `${dir.path}/summary.json`,
    ], { signal: "SIGTERM", signalAfterMs: 2000 });
    assert.equal(result.code, 143, result.stderr);
    const summary = await readSummary(`${dir.path}/summary.json`);
    assert.equal(summary.stop_reason, "terminated");
    assert.equal(summary.totals.requests, server.total());
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});
