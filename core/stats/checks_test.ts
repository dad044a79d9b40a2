import assert from "node:assert/strict";
import { CheckCounts, MAX_CHECK_NAMES, OTHER_CHECKS } from "./checks.ts";

Deno.test("checks are counted per name; take() hands out and restarts the counts", () => {
  const counts = new CheckCounts();
  counts.count("status 200", true);
  counts.count("status 200", true);
  counts.count("has items", false);
  counts.count("status 200", false);
  assert.deepEqual(counts.take(), [
    { name: "status 200", passes: 2, fails: 1 },
    { name: "has items", passes: 0, fails: 1 },
  ]);
  counts.count("has items", true);
  assert.deepEqual(counts.take(), [{ name: "has items", passes: 1, fails: 0 }]);
  assert.deepEqual(counts.take(), []);
});

Deno.test("check names past the limit are counted together, said once; add() merges", () => {
  let said = 0;
  const counts = new CheckCounts(() => said++);
  for (let i = 0; i < MAX_CHECK_NAMES + 5; i++) counts.count(`check ${i}`, i % 2 === 0);
  const results = counts.results();
  assert.equal(results.length, MAX_CHECK_NAMES + 1);
  assert.deepEqual(results.at(-1), { name: OTHER_CHECKS, passes: 3, fails: 2 });
  assert.equal(said, 1);
  const total = new CheckCounts();
  total.add([{ name: "a", passes: 1, fails: 2 }]);
  total.add([{ name: "a", passes: 3, fails: 0 }, { name: "b", passes: 0, fails: 1 }]);
  assert.deepEqual(total.results(), [
    { name: "a", passes: 4, fails: 2 },
    { name: "b", passes: 0, fails: 1 },
  ]);
});
