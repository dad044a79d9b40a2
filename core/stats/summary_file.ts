// Reading a summary file back: the baseline of a run's thresholds, the two sides of `compare`.
import { describeError, UsageError } from "../errors.ts";
import type { Summary } from "./summary.ts";

/** Reads and checks a summary file written by `--summary`; `what` names it in errors. */
export async function readSummaryFile(path: string, what: string): Promise<Summary> {
  let summary: Summary;
  try {
    summary = JSON.parse(await Deno.readTextFile(path));
  } catch (cause) {
    throw new UsageError(`Cannot read ${what} "${path}": ${describeError(cause)}`, { cause });
  }
  if (
    typeof summary !== "object" || summary === null || typeof summary.totals !== "object" ||
    !Array.isArray(summary.endpoints)
  ) {
    throw new UsageError(`Cannot read ${what} "${path}": it is not a summary file (--summary)`);
  }
  return summary;
}
