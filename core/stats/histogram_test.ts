import assert from "node:assert/strict";
import { bucketCounts, createHistogram, recordLatencyUs } from "./histogram.ts";

Deno.test("bucketCounts splits a histogram at explicit bounds and keeps every count", () => {
  const histogram = createHistogram();
  for (const us of [500, 1000, 4000, 5000, 5100, 20_000, 2_000_000]) recordLatencyUs(histogram, us);
  const counts = bucketCounts(histogram, [1000, 5000, 10_000, 1_000_000]);
  assert.deepEqual(counts, [2, 2, 1, 1, 1]);
  assert.equal(counts.reduce((a, b) => a + b, 0), histogram.totalCount);
});
