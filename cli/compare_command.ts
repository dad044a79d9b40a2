// `stampede compare`: two runs' summaries side by side, and a verdict as the exit code.
import { Command, Option } from "npm:commander@15.1.0";
import { ExitCode } from "../core/errors.ts";
import { fileSink } from "../core/sink.ts";
import {
  compareSummaries,
  comparisonTable,
  MIN_REQUESTS_BEYOND,
  regressed,
} from "../core/stats/compare.ts";
import { readSummaryFile } from "../core/stats/summary_file.ts";
import { parseProgram } from "./program.ts";
import { tolerance } from "./values.ts";

/** `stampede compare BASE.json NEW.json [--tolerance 10%]`: exits 99 when NEW regressed. */
export async function compare(args: string[]): Promise<number> {
  const program = new Command("stampede compare")
    .description(
      "Compare two runs' summaries (--summary) endpoint by endpoint: throughput, failure rate and\n" +
        "p50/p95/p99 (exact from their HDR histograms). Exits 99 when NEW is worse than BASE by\n" +
        "more than the tolerance (latency up, throughput down; failure rate up by 1 point).",
    )
    .argument("<base>", "the summary of the baseline run")
    .argument("<new>", "the summary of the run to judge")
    .addOption(
      new Option("--tolerance <fraction>", "allowed change: 10% or 0.1 (default 10%)")
        .argParser(tolerance).default(0.1),
    )
    .helpOption("-h, --help", "show this help")
    .exitOverride();
  // Its messages keep commander's line breaks.
  if (!parseProgram(program, args, [], "see compare --help", false)) return ExitCode.ok;
  const [basePath, currentPath] = program.args;
  const base = await readSummaryFile(basePath, "baseline summary");
  const current = await readSummaryFile(currentPath, "summary");
  const rows = compareSummaries(base, current, program.opts().tolerance);
  const out = fileSink(Deno.stdout);
  out.write(
    `Comparing ${base.testplan} ${base.started_at} (base) with ${current.testplan} ${current.started_at}\n` +
      comparisonTable(rows) + "\n",
  );
  const tooFew = rows.some((r) => Object.values(r.percentilesMs).some((v) => v.tooFew));
  if (tooFew) {
    out.write(
      `~ not judged: fewer than ${MIN_REQUESTS_BEYOND} requests at or beyond that percentile in a run.\n`,
    );
  }
  if (!regressed(rows)) {
    out.write("No change beyond the tolerance.\n");
    return ExitCode.ok;
  }
  out.write("Regressed beyond the tolerance (marked !).\n");
  return ExitCode.threshold;
}
