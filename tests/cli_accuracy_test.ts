// Reported percentiles match the latencies the target actually produced.
import assert from "node:assert/strict";
import { argv, ROOT, runCliWithSummary, startCountingServer } from "./helpers.ts";

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

Deno.test("p50/p95/p99 are within 1 ms + 1 % of the target's own delays (10–200 ms)", async () => {
  // Delays follow a known distribution; the server measures what it really served.
  let seed = 42;
  const random = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const delaysMs: number[] = [];
  const server = startCountingServer(async () => {
    const start = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 10 + random() * 190));
    delaysMs.push(performance.now() - start);
    return new Response("done");
  });
  try {
    const { code, stderr, summary } = await runCliWithSummary(
      argv`${ROOT}tests/plans/flat_out.plan.ts --host ${server.url} --workers 2 --run-time 5s --stop-timeout 1s`,
    );
    assert.equal(code, 0, stderr);
    assert.equal(summary.totals.requests, delaysMs.length);
    assert.ok(delaysMs.length > 300, `only ${delaysMs.length} requests`);
    const sorted = [...delaysMs].sort((a, b) => a - b);
    for (const p of [50, 95, 99]) {
      const served = percentile(sorted, p);
      const reportedMs = summary.totals.percentiles_ms[String(p)];
      const tolerance = 1 + served * 0.01;
      assert.ok(
        Math.abs(reportedMs - served) <= tolerance,
        `p${p}: reported ${reportedMs} ms, served ${served.toFixed(3)} ms (tolerance ${
          tolerance.toFixed(2)
        })`,
      );
    }
  } finally {
    await server.shutdown();
  }
});
