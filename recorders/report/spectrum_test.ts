import assert from "node:assert/strict";
import { createHistogram } from "../../core/stats/histogram.ts";
import { percentileOfX, spectrumGrid, spectrumMs, TICKS_PER_DECADE } from "./spectrum.ts";

Deno.test("the grid runs from 0 % to the first point past the samples, evenly in log(1/(1-p))", () => {
  const grid = spectrumGrid(5_000);
  assert.equal(grid[0], 1);
  assert.equal(percentileOfX(grid[TICKS_PER_DECADE]), 90);
  assert.ok(Math.abs(percentileOfX(grid[2 * TICKS_PER_DECADE]) - 99) < 1e-9);
  assert.ok(grid.at(-1)! > 5_000 && grid.at(-2)! <= 5_000, String(grid.slice(-2)));
  // Few samples still reach 99 %; many stop by 99.99999 %.
  assert.ok(Math.abs(percentileOfX(spectrumGrid(3).at(-1)!) - 99) < 1e-9);
  assert.ok(spectrumGrid(1e12).at(-1)! <= 1e7 + 1);
});

Deno.test("the spectrum's values are the histogram's percentiles, ending at its maximum", () => {
  const histogram = createHistogram();
  for (let us = 1_000; us <= 100_000; us += 1_000) histogram.recordValue(us); // 1..100 ms
  const grid = spectrumGrid(histogram.totalCount);
  const values = spectrumMs(histogram, grid, 100);
  assert.ok(Math.abs(values[0] - 1) < 0.01, `0 %: ${values[0]}`);
  assert.ok(Math.abs(values[TICKS_PER_DECADE] - 90) < 0.1, `90 %: ${values[TICKS_PER_DECADE]}`);
  assert.equal(values.at(-1), 100);
  for (let i = 1; i < values.length; i++) assert.ok(values[i] >= values[i - 1]);
  assert.deepEqual(spectrumMs(createHistogram(), [1, 10], 0), [0, 0]);
});
