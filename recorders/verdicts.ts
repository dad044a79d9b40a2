// Thresholds and checks as the final data may carry them. The recorder contract has neither yet
// (thresholds are being built beside this); the console's final tables and the HTML report show
// them when `FinalSnapshot` carries the optional fields below. This file is the one place that
// reads them: when the contract gets its own types, only `verdictsOf` changes.
import type { FinalSnapshot } from "../core/recorder/types.ts";

/** One threshold and whether the run met it. */
export interface ThresholdVerdict {
  /** What is measured, e.g. `http_req_duration` or `GET /cart`. */
  metric: string;
  /** The condition as written, e.g. `p(95) < 500`. */
  condition: string;
  /** The measured value, when known (ms for latencies). */
  value?: number | null;
  passed: boolean;
}

/** One named check and how often it held. */
export interface CheckVerdict {
  name: string;
  passes: number;
  fails: number;
}

/**
 * The hook: a `FinalSnapshot` that carries verdicts. Fields are optional, so today's snapshots
 * (without them) show no thresholds and no checks.
 */
export type FinalWithVerdicts = FinalSnapshot & {
  thresholds?: readonly ThresholdVerdict[];
  checks?: readonly CheckVerdict[];
};

/** The thresholds and checks the final data carries, each empty when absent or malformed. */
export function verdictsOf(
  final: FinalSnapshot,
): { thresholds: ThresholdVerdict[]; checks: CheckVerdict[] } {
  const { thresholds, checks } = final as FinalWithVerdicts;
  return {
    thresholds: (Array.isArray(thresholds) ? thresholds : []).filter((t) =>
      typeof t?.metric === "string" && typeof t.condition === "string" &&
      typeof t.passed === "boolean"
    ),
    checks: (Array.isArray(checks) ? checks : []).filter((c) =>
      typeof c?.name === "string" && Number.isFinite(c.passes) && Number.isFinite(c.fails)
    ),
  };
}
