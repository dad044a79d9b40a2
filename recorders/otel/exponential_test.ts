import assert from "node:assert/strict";
import { exponentialBuckets, indexAtMaxScale, MAX_BUCKETS, MAX_SCALE } from "./exponential.ts";

/** The bucket (lower, upper] that index `i` stands for at `scale`. */
function bounds(scale: number, index: number): [number, number] {
  const base = 2 ** (2 ** -scale);
  return [base ** index, base ** (index + 1)];
}

Deno.test("a power of two closes its bucket; a value just above opens the next", () => {
  assert.equal(indexAtMaxScale(1), -1);
  assert.equal(indexAtMaxScale(2), 2 ** MAX_SCALE - 1);
  assert.equal(indexAtMaxScale(0.5), -(2 ** MAX_SCALE) - 1);
  assert.equal(indexAtMaxScale(1.0000001), 0);
});

Deno.test("a narrow range keeps the finest scale; every value lies in its bucket", () => {
  const values: [number, number][] = [[0.001, 3], [0.0010005, 2], [0.0011, 1]];
  const buckets = exponentialBuckets(values)!;
  assert.ok(buckets.scale <= MAX_SCALE && buckets.scale >= 10, `scale ${buckets.scale}`);
  assert.ok(buckets.bucketCounts.length <= MAX_BUCKETS);
  assert.equal(buckets.bucketCounts.reduce((a, b) => a + b, 0), 6);
  for (const [value] of values) {
    const index = indexAtMaxScale(value) >> (MAX_SCALE - buckets.scale);
    const [low, high] = bounds(buckets.scale, index);
    assert.ok(
      value > low * (1 - 1e-12) && value <= high * (1 + 1e-12),
      `${value} in (${low}, ${high}]`,
    );
    assert.ok(buckets.bucketCounts[index - buckets.offset] > 0);
  }
});

Deno.test("a range from 1 µs to 1 h is scaled down to fit the bucket limit, counts kept", () => {
  const values: [number, number][] = [];
  let total = 0;
  for (let v = 1e-6; v < 3600; v *= 1.37) {
    values.push([v, 2]);
    total += 2;
  }
  const buckets = exponentialBuckets(values)!;
  assert.ok(buckets.bucketCounts.length <= MAX_BUCKETS, `${buckets.bucketCounts.length} buckets`);
  // log2(3.6e9) is about 32 octaves: 160 buckets allow 4 per octave (scale 2), not 8.
  assert.equal(buckets.scale, 2);
  assert.equal(buckets.bucketCounts.reduce((a, b) => a + b, 0), total);
  for (const [value] of values) {
    const [low, high] = bounds(buckets.scale, indexAtMaxScale(value) >> (MAX_SCALE - 2));
    assert.ok(value > low * (1 - 1e-12) && value <= high * (1 + 1e-12));
  }
});

Deno.test("no positive values give no buckets", () => {
  assert.equal(exponentialBuckets([]), null);
  assert.equal(exponentialBuckets([[0, 4]]), null);
});
