import assert from "node:assert/strict";
import { ABORTED, MAX_TIMER_MS, setLongTimeout, settleWithin } from "./timers.ts";

Deno.test("a delay past what one timer holds does not fire at once", async () => {
  let fired = false;
  const cancel = setLongTimeout(() => fired = true, MAX_TIMER_MS + 10_000);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(fired, false);
  cancel();
  const short = await new Promise<number>((resolve) => {
    const start = performance.now();
    setLongTimeout(() => resolve(performance.now() - start), 20);
  });
  assert.ok(short >= 15, `fired after ${short} ms`);
});

Deno.test("settleWithin: the value, the timeout's error, or ABORTED when the signal comes first", async () => {
  const never = new Promise<number>(() => {});
  assert.equal(await settleWithin(Promise.resolve(7), 1000, () => new Error("late")), 7);
  await assert.rejects(() => settleWithin(never, 20, () => new Error("late")), /late/);
  await assert.rejects(
    () => settleWithin(Promise.reject(new Error("own")), 1000, () => new Error("late")),
    /own/,
  );
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 10);
  assert.equal(await settleWithin(never, 5_000, () => new Error("late"), stop.signal), ABORTED);
  assert.equal(await settleWithin(never, 5_000, () => new Error("late"), stop.signal), ABORTED);
});
