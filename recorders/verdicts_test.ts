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
  thresholds: [],
} as unknown as FinalSnapshot;

Deno.test("verdicts: thresholds as the run evaluated them; well-formed checks only", () => {
  assert.deepEqual(verdictsOf(final), { thresholds: [], checks: [] });
  const threshold = {
    metric: "http.duration",
    expression: "p(95)<50",
    value: 12,
    limit: 50,
    ok: true,
  };
  const check = { name: "status is 200", passes: 3, fails: 0 };
  assert.deepEqual(
    verdictsOf({ ...final, thresholds: [threshold], checks: [check, null] } as never),
    { thresholds: [threshold], checks: [check] },
  );
});
