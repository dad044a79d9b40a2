import assert from "node:assert/strict";
import { ArrivalSchedule, OwnedIterations } from "./arrival_schedule.ts";

/** Every iteration time of `schedule` (bounded), in order. */
function times(schedule: ArrivalSchedule, limit = 1e6): number[] {
  const out: number[] = [];
  for (let n = 0; n < limit; n++) {
    const t = schedule.timeOf(n);
    if (t === null) break;
    out.push(t);
  }
  return out;
}

Deno.test("a constant rate: rate × duration iterations, evenly spaced from 0", () => {
  const s = new ArrivalSchedule([{ durationMs: 10_000, from: 200, to: 200 }], false);
  const all = times(s);
  assert.equal(all.length, 2000);
  assert.equal(all[0], 0);
  assert.ok(Math.abs(all[1] - 5) < 1e-9);
  assert.ok(Math.abs(all.at(-1)! - 9995) < 1e-6);
  assert.equal(s.rateAt(3000), 200);
  assert.equal(s.dueBefore(10_000), 2000);
});

Deno.test("ramps: the count in each second follows the integral of the rate", () => {
  const s = new ArrivalSchedule([
    { durationMs: 10_000, from: 0, to: 100 },
    { durationMs: 5_000, from: 100, to: 100 },
    { durationMs: 5_000, from: 100, to: 0 },
  ], false);
  const all = times(s);
  assert.equal(all.length, Math.ceil(s.dueBefore(20_000)));
  assert.equal(all.length, 500 + 500 + 250);
  for (let second = 0; second < 20; second++) {
    const inSecond = all.filter((t) => t >= second * 1000 && t < (second + 1) * 1000).length;
    const expected = s.dueBefore((second + 1) * 1000) - s.dueBefore(second * 1000);
    assert.ok(Math.abs(inSecond - expected) <= 1, `second ${second}: ${inSecond} vs ${expected}`);
  }
  for (let i = 1; i < all.length; i++) assert.ok(all[i] > all[i - 1], `increasing at ${i}`);
  assert.equal(s.rateAt(5000), 50);
  assert.equal(s.rateAt(17_500), 50);
});

Deno.test("an endless profile keeps its last rate; a pause starts nothing", () => {
  const s = new ArrivalSchedule([
    { durationMs: 1000, from: 10, to: 10 },
    { durationMs: 1000, from: 0, to: 0 },
    { durationMs: 1000, from: 10, to: 10 },
  ], true);
  assert.equal(s.endMs, null);
  const first = times(s, 40);
  assert.equal(first.filter((t) => t >= 1000 && t < 2000).length, 0, "the pause");
  assert.ok(Math.abs(first[30] - 4000) < 1e-6, `${first[30]}`);
});

Deno.test("workers own disjoint shares of the iterations that together are all of them", () => {
  for (const [pool, workers] of [[1, 1], [4, 2], [5, 2], [7, 3], [2, 4]]) {
    const seen: number[] = [];
    for (let w = 0; w < workers; w++) {
      const owned = new OwnedIterations(pool, workers, w);
      let previous = -1;
      for (let k = 0; k < 200; k++) {
        const n = owned.next();
        if (n === null) break;
        assert.ok(n > previous);
        previous = n;
        if (n < 60) seen.push(n);
      }
    }
    const expected = Array.from({ length: 60 }, (_, i) => i);
    assert.deepEqual(seen.sort((a, b) => a - b).slice(0, 60), expected, `${pool}/${workers}`);
  }
  assert.equal(new OwnedIterations(2, 4, 3).next(), null, "a worker with no pool slot");
});
