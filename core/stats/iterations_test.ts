import assert from "node:assert/strict";
import { IterationTally, iterationTotals } from "./iterations.ts";

Deno.test("iterations are counted by kind; take() restarts them; add() merges; totals sum", () => {
  const worker = new IterationTally();
  const shoppers = worker.of("shopper");
  shoppers.started++;
  shoppers.started++;
  worker.dropped("api", 3);
  assert.deepEqual(worker.take(), [
    { kind: "shopper", started: 2, dropped: 0 },
    { kind: "api", started: 0, dropped: 3 },
  ]);
  assert.deepEqual(worker.take(), []);
  // The counts taken start again in the same object a caller counts into.
  shoppers.started++;
  assert.deepEqual(worker.take(), [{ kind: "shopper", started: 1, dropped: 0 }]);
  const run = new IterationTally();
  run.add([{ kind: "api", started: 5, dropped: 1 }]);
  run.add([{ kind: "api", started: 1, dropped: 0 }, { kind: "shopper", started: 2, dropped: 0 }]);
  assert.deepEqual(iterationTotals(run.results()), { started: 8, dropped: 1 });
});
