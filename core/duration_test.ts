import assert from "node:assert/strict";
import { formatDuration, parseDuration } from "./duration.ts";
import { UsageError } from "./errors.ts";

Deno.test("parseDuration reads units and combinations", () => {
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("5m"), 300_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("1m30s500ms"), 90_500);
  assert.equal(parseDuration("90"), 90_000);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration(2), 2000);
});

Deno.test("parseDuration rejects what is not a duration, naming the input", () => {
  for (const bad of ["", "abc", "10x", "5m10", "-3s", "s"]) {
    assert.throws(() => parseDuration(bad, "--run-time"), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /--run-time/);
      return true;
    });
  }
});

Deno.test("formatDuration is short and exact", () => {
  assert.equal(formatDuration(45_000), "45s");
  assert.equal(formatDuration(1500), "1.5s");
  assert.equal(formatDuration(90_000), "1m30s");
  assert.equal(formatDuration(3_723_000), "1h02m03s");
});
