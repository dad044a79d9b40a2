import assert from "node:assert/strict";
import type { FinalSnapshot } from "../core/recorder/types.ts";
import { verdictsOf } from "./verdicts.ts";

const final = {
  at: "",
  elapsedMs: 0,
  reason: "completed",
  users: 0,
  usersByKind: {},
  cumulative: { durationMs: 0, total: {}, endpoints: [] },
  failures: [],
  cells: [],
  histograms: [],
} as unknown as FinalSnapshot;

Deno.test("no thresholds or checks on today's final snapshot; carried ones are read", () => {
  assert.deepEqual(verdictsOf(final), { thresholds: [], checks: [] });
  const threshold = { metric: "GET /a", condition: "p(95) < 50", value: 12, passed: true };
  const check = { name: "status is 200", passes: 3, fails: 0 };
  assert.deepEqual(
    verdictsOf(
      { ...final, thresholds: [threshold, { metric: 1 }], checks: [check, null] } as never,
    ),
    { thresholds: [threshold], checks: [check] },
  );
});
