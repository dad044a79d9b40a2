import assert from "node:assert/strict";
import { EXEMPLAR_SLOTS, exemplarSlot, ExemplarSlots, mergeExemplars } from "./exemplars.ts";

Deno.test("slots: two per power of two of µs, ascending, bounded", () => {
  assert.equal(exemplarSlot(0), 0);
  assert.equal(exemplarSlot(1), 0);
  assert.equal(exemplarSlot(1000), exemplarSlot(1023));
  assert.equal(exemplarSlot(1024), 2 * 10);
  assert.equal(exemplarSlot(1536), 2 * 10 + 1);
  let prior = 0;
  for (let us = 1; us < 1e10; us *= 1.3) {
    const slot = exemplarSlot(Math.round(us));
    assert.ok(slot >= prior && slot < EXEMPLAR_SLOTS);
    prior = slot;
  }
});

Deno.test("a cell keeps the slowest sampled request per slot, then starts afresh", () => {
  const slots = new ExemplarSlots();
  assert.equal(slots.take(), undefined);
  slots.offer(1100, "t1", "s1", 1);
  slots.offer(1200, "t2", "s2", 2);
  slots.offer(1150, "t3", "s3", 3);
  slots.offer(50_000, "t4", "s4", 4);
  const taken = slots.take()!.sort((a, b) => a.valueUs - b.valueUs);
  assert.deepEqual(taken.map((e) => e.traceId), ["t2", "t4"]);
  assert.equal(slots.take(), undefined);
});

Deno.test("merging keeps one per slot, the slowest, whatever the order", () => {
  const a = [{ valueUs: 1100, traceId: "a", spanId: "a", timeMs: 1 }];
  const b = [
    { valueUs: 1200, traceId: "b", spanId: "b", timeMs: 2 },
    { valueUs: 9, traceId: "c", spanId: "c", timeMs: 3 },
  ];
  const ids = (list: { traceId: string }[]) => list.map((e) => e.traceId).sort();
  assert.deepEqual(ids(mergeExemplars(a, b)), ["b", "c"]);
  assert.deepEqual(ids(mergeExemplars(b, a)), ["b", "c"]);
  assert.deepEqual(ids(mergeExemplars(null, a)), ["a"]);
});
