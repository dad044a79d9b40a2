import assert from "node:assert/strict";
import { UsageError } from "./errors.ts";
import { parseRate } from "./rate.ts";

Deno.test("rates: per second, minute, hour or any duration; a bare number is per second", () => {
  assert.equal(parseRate("200/s"), 200);
  assert.equal(parseRate("60/m"), 1);
  assert.equal(parseRate("3600/h"), 1);
  assert.equal(parseRate("10/100ms"), 100);
  assert.equal(parseRate(" 5 / 2s "), 2.5);
  assert.equal(parseRate(50), 50);
  assert.equal(parseRate("7"), 7);
  assert.equal(parseRate(0, "stage rate", true), 0);
});

Deno.test("a bad rate says what is wrong", () => {
  for (
    const [input, message] of [
      ["fast", /expected iterations per time such as 200\/s/],
      ["0/s", /must be above 0/],
      [-1, /must be above 0/],
      ["5/parsec", /rate unit/],
      ["1e9/s", /expected iterations per time/],
      [1e12, /at most/],
    ] as const
  ) {
    assert.throws(
      () => parseRate(input, "arrival rate"),
      (e: unknown) => e instanceof UsageError && message.test(e.message),
      String(input),
    );
  }
});
