// The interval snapshot the recorders' unit tests build again and again: every field empty (no
// users, no cells), for a test to set what it is about.
import { endpointStats } from "../stats/test_fixtures.ts";
import type { StatsView } from "../stats/types.ts";
import type { IntervalSnapshot } from "./types.ts";

/** An interval snapshot at the start of a run with nothing counted; `over` sets the rest. */
export function intervalSnapshot(over: Partial<IntervalSnapshot> = {}): IntervalSnapshot {
  const empty: StatsView = { durationMs: 0, total: endpointStats(), endpoints: [] };
  return {
    at: "",
    elapsedMs: 0,
    runTimeMs: null,
    users: 0,
    usersByKind: {},
    workers: 0,
    window: empty,
    cumulative: empty,
    cells: [],
    failures: [],
    checks: [],
    iterations: [],
    targetRates: {},
    ...over,
  };
}
