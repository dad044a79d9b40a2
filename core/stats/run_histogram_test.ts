import assert from "node:assert/strict";
import { createHistogram, encodeHistogram, percentilesUs, recordLatencyUs } from "./histogram.ts";
import { RunHistogram } from "./run_histogram.ts";

Deno.test("a run histogram merged from intervals holds what one histogram of every value holds", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const run = new RunHistogram();
  const all = createHistogram();
  for (let interval = 0; interval < 25; interval++) {
    // Flat intervals as the coordinator decodes them, and one packed, as a library caller may add.
    const part = createHistogram(interval === 3);
    const size = interval === 5 ? 0 : Math.floor(random() * 4000);
    for (let i = 0; i < size; i++) {
      const us = Math.round(1 + random() ** 4 * (interval < 10 ? 5e4 : 3e9));
      recordLatencyUs(part, us);
      recordLatencyUs(all, us);
    }
    run.add(part);
    const ps = [0, 50, 90, 95, 99, 99.9, 100, 12.5];
    assert.deepEqual(run.percentilesUs(ps), percentilesUs(all, ps), `after interval ${interval}`);
  }
  assert.equal(run.totalCount, all.totalCount);
  const out = run.toHistogram();
  assert.equal(encodeHistogram(out), encodeHistogram(all));
  for (const p of [0, 50, 100]) {
    assert.equal(out.getValueAtPercentile(p), all.getValueAtPercentile(p), `p${p}`);
  }
});

Deno.test("a run histogram counts past 2^32 in one bucket and starts empty", () => {
  const run = new RunHistogram();
  assert.deepEqual(run.percentilesUs([50, 99]), [0, 0]);
  assert.equal(run.toHistogram().totalCount, 0);
  const part = createHistogram();
  part.recordValueWithCount(1500, 2 ** 30);
  for (let i = 0; i < 5; i++) run.add(part);
  assert.equal(run.totalCount, 5 * 2 ** 30);
  assert.equal(run.size, 1);
  assert.deepEqual(run.percentilesUs([50]), percentilesUs(part, [50]));
  const out = run.toHistogram();
  assert.equal(out.totalCount, 5 * 2 ** 30);
  assert.equal(out.getValueAtPercentile(99), part.getValueAtPercentile(99));
});
