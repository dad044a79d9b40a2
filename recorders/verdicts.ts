// Thresholds and checks as the final data carries them, for the console's final tables and the
// HTML report. Thresholds are part of the recorder contract (`FinalSnapshot.thresholds`); checks
// are read from the optional field below until the contract carries them too.
import type { FinalSnapshot, ThresholdResult } from "../core/recorder/types.ts";

/** One named check and how often it held. */
export interface CheckVerdict {
  name: string;
  passes: number;
  fails: number;
}

/** The thresholds and checks the final data carries, each empty when absent or malformed. */
export function verdictsOf(
  final: FinalSnapshot,
): { thresholds: ThresholdResult[]; checks: CheckVerdict[] } {
  const { checks } = final as FinalSnapshot & { checks?: readonly CheckVerdict[] };
  return {
    thresholds: final.thresholds ?? [],
    checks: (Array.isArray(checks) ? checks : []).filter((c) =>
      typeof c?.name === "string" && Number.isFinite(c.passes) && Number.isFinite(c.fails)
    ),
  };
}
