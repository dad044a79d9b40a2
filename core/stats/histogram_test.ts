import assert from "node:assert/strict";
import {
  bucketCounts,
  createHistogram,
  encodeHistogram,
  HIGHEST_TRACKABLE_US,
  percentilesUs,
  recordLatencyUs,
} from "./histogram.ts";

Deno.test("bucketCounts splits a histogram at explicit bounds and keeps every count", () => {
  const histogram = createHistogram();
  for (const us of [500, 1000, 4000, 5000, 5100, 20_000, 2_000_000]) recordLatencyUs(histogram, us);
  const counts = bucketCounts(histogram, [1000, 5000, 10_000, 1_000_000]);
  assert.deepEqual(counts, [2, 2, 1, 1, 1]);
  assert.equal(counts.reduce((a, b) => a + b, 0), histogram.totalCount);
});

Deno.test("percentiles in one pass equal getValueAtPercentile one at a time", () => {
  let seed = 11;
  const random = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  for (const size of [1, 7, 1000, 50_000]) {
    const histogram = createHistogram();
    for (let i = 0; i < size; i++) recordLatencyUs(histogram, Math.round(1 + random() ** 3 * 5e6));
    const ps = [99.9, 0, 50, 90, 95, 99, 100, 33.3];
    assert.deepEqual(
      percentilesUs(histogram, ps),
      ps.map((p) => histogram.getValueAtPercentile(p)),
      `${size} values`,
    );
  }
  assert.deepEqual(percentilesUs(createHistogram(), [50, 99]), [0, 0]);
});

Deno.test("recordLatencyUs counts as recordValue does: same index, totals, min and max", () => {
  const fast = createHistogram();
  const library = createHistogram();
  const values = [0, 1, 2, 1023, 1024, 1025, 2047, 2048, 2049, 4095, 4096, 123_456, 2 ** 31 - 1];
  for (let k = 11; k < 32; k++) values.push(2 ** k - 1, 2 ** k, 2 ** k + 1);
  for (let i = 0; i < 20_000; i++) values.push(Math.floor(Math.exp(Math.random() * 22)));
  values.push(HIGHEST_TRACKABLE_US, HIGHEST_TRACKABLE_US + 5, 7.5);
  for (const v of values) {
    recordLatencyUs(fast, v);
    library.recordValue(v < 1 ? 1 : v > HIGHEST_TRACKABLE_US ? HIGHEST_TRACKABLE_US : v);
  }
  assert.deepEqual(fast.totalCount, library.totalCount);
  assert.deepEqual(fast.maxValue, library.maxValue);
  assert.deepEqual(fast.minNonZeroValue, library.minNonZeroValue);
  const counts = (h: unknown) => Array.from((h as { _counts: Int32Array })._counts);
  assert.deepEqual(counts(fast), counts(library));
  assert.deepEqual(encodeHistogram(fast), encodeHistogram(library));
});
