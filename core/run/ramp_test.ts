import assert from "node:assert/strict";
import { rampTarget, UserAllocator, UserRamp } from "./ramp.ts";

Deno.test("users are split across kinds by weight and across workers evenly", () => {
  const allocator = new UserAllocator(
    [{ kind: "shopper", weight: 3 }, { kind: "bot", weight: 1 }],
    2,
  );
  assert.deepEqual(allocator.totals(20), { shopper: 15, bot: 5 });
  const perWorker = allocator.allocate(20);
  assert.equal(perWorker.length, 2);
  assert.equal(perWorker[0].shopper + perWorker[0].bot, 10);
  assert.equal(perWorker[0].shopper + perWorker[1].shopper, 15);
  // every prefix keeps the ratio within one user
  for (let n = 1; n <= 40; n++) {
    const t = allocator.totals(n);
    assert.ok(Math.abs(t.shopper - n * 0.75) <= 1, `n=${n}: ${JSON.stringify(t)}`);
  }
});

Deno.test("a kind of weight 0 gets no users", () => {
  const allocator = new UserAllocator([{ kind: "a", weight: 0 }, { kind: "b", weight: 2 }], 3);
  assert.deepEqual(allocator.totals(7), { b: 7 });
});

Deno.test("the ramp starts one user at once and reaches the target at users/spawnRate", () => {
  assert.equal(rampTarget(0, 20, 10), 1);
  assert.equal(rampTarget(1000, 20, 10), 10);
  assert.equal(rampTarget(1950, 20, 10), 20);
  assert.equal(rampTarget(5000, 20, 10), 20);
  assert.equal(rampTarget(0, 5, Infinity), 5);
  assert.equal(rampTarget(100, 0, 10), 0);
});

Deno.test("the user ramp steps only when its target changes and says when it is complete", () => {
  const ramp = new UserRamp([{ kind: "a", weight: 1 }], 2, 4, 2);
  assert.deepEqual(ramp.step(0), [{ a: 1 }, { a: 0 }]);
  assert.equal(ramp.complete, false);
  assert.equal(ramp.step(100), null);
  assert.deepEqual(ramp.step(1000), [{ a: 1 }, { a: 1 }]);
  assert.deepEqual(ramp.step(2000), [{ a: 2 }, { a: 2 }]);
  assert.equal(ramp.complete, true);
  assert.deepEqual(ramp.usersByKind(), { a: 4 });
  const none = new UserRamp([{ kind: "a", weight: 1 }], 1, 0, 10);
  assert.equal(none.complete, false);
  assert.deepEqual(none.step(0), [{ a: 0 }]);
  assert.equal(none.complete, true);
});
