import assert from "node:assert/strict";
import { compareSummaries, comparisonTable, regressed } from "./compare.ts";
import type { Summary } from "./summary.ts";

/** A summary whose total has `requests` and these percentiles (no histogram: the fields). */
function summaryWith(requests: number, p50: number, p95: number, p99: number): Summary {
  return {
    totals: {
      requests,
      failures: 0,
      rps: requests / 10,
      min_ms: 1,
      max_ms: 1000,
      mean_ms: p50,
      percentiles_ms: { "50": p50, "95": p95, "99": p99 },
    },
    endpoints: [],
  } as unknown as Summary;
}

Deno.test("compare: p99 of a few hundred requests is shown but not judged; from 500 on it is", () => {
  // +20 % at p99 only.
  const small = compareSummaries(summaryWith(400, 10, 40, 50), summaryWith(400, 10, 40, 60), 0.1);
  assert.equal(small[0].percentilesMs["99"].tooFew, true);
  assert.equal(small[0].percentilesMs["99"].regressed, false);
  assert.equal(regressed(small), false);
  assert.match(comparisonTable(small), /50\.00 → 60\.00 \(\+20\.0%\) ~/);

  const large = compareSummaries(summaryWith(500, 10, 40, 50), summaryWith(500, 10, 40, 60), 0.1);
  assert.equal(large[0].percentilesMs["99"].regressed, true);
  assert.equal(regressed(large), true);
  assert.match(comparisonTable(large), /50\.00 → 60\.00 \(\+20\.0%\) !/);
});

Deno.test("compare: p95 is judged from 100 requests in each run, p50 from 10", () => {
  const p95 = (base: number, current: number) =>
    compareSummaries(summaryWith(base, 10, 40, 50), summaryWith(current, 10, 60, 50), 0.1)[0]
      .percentilesMs["95"];
  assert.equal(p95(100, 100).regressed, true);
  assert.equal(p95(100, 99).regressed, false, "the smaller run decides");
  assert.equal(p95(99, 100).tooFew, true);
  const p50 = compareSummaries(summaryWith(9, 10, 40, 50), summaryWith(9, 20, 40, 50), 0.1)[0]
    .percentilesMs["50"];
  assert.deepEqual([p50.regressed, p50.tooFew], [false, true]);
});
