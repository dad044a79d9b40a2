// The `csv` recorder: Locust's four CSV files (`--csv PREFIX`), so spreadsheets and scripts made
// for Locust read Stampede's results. The history streams a row per interval; the other three are
// written whole (atomically) once the final stats are known.
import { UsageError } from "../../core/errors.ts";
import { booleanOption, stringOption } from "../../core/option_values.ts";
import type {
  FinalSnapshot,
  IntervalSnapshot,
  Recorder,
  RecorderContext,
  RecorderPlugin,
} from "../../core/recorder/types.ts";
import { checkWritable, openFileSink, type TextSink, writeFileAtomic } from "../../core/sink.ts";
import {
  CSV_FILES,
  EXCEPTIONS_COLUMNS,
  FAILURES_COLUMNS,
  HISTORY_COLUMNS,
  STATS_COLUMNS,
} from "./columns.ts";
import { type Cell, csvRow } from "./csv_text.ts";
import { LatencyWindow } from "./latency_window.ts";
import { exceptionRows, failureRows, historyRows, statsRows } from "./rows.ts";

/** The paths of the four files of a prefix: `out/run1` → `out/run1_stats.csv`, ... */
export function csvPaths(prefix: string): Record<keyof typeof CSV_FILES, string> {
  return {
    stats: prefix + CSV_FILES.stats,
    history: prefix + CSV_FILES.history,
    failures: prefix + CSV_FILES.failures,
    exceptions: prefix + CSV_FILES.exceptions,
  };
}

function csvText(columns: readonly string[], rows: Cell[][]): string {
  return csvRow(columns) + rows.map(csvRow).join("");
}

/** Options of a {@link LocustCsvRecorder}. */
export interface LocustCsvRecorderOptions {
  prefix: string;
  /** A history row for every endpoint, not only Aggregated (Locust's `--csv-full-history`). */
  fullHistory: boolean;
  /** Where the history goes (default: `PREFIX_stats_history.csv`, opened now). */
  history?: Pick<TextSink, "write" | "close">;
}

/** Writes Locust's CSV files of one run. */
export class LocustCsvRecorder implements Recorder {
  readonly #paths: ReturnType<typeof csvPaths>;
  readonly #fullHistory: boolean;
  readonly #history: Pick<TextSink, "write" | "close">;
  readonly #latencies: LatencyWindow;
  /** The last stats written whole, so a run that never got its final stats still leaves files. */
  #written: Promise<void> | null = null;
  #closed = false;

  constructor(options: LocustCsvRecorderOptions) {
    this.#paths = csvPaths(options.prefix);
    this.#fullHistory = options.fullHistory;
    this.#latencies = new LatencyWindow({ perEndpoint: options.fullHistory });
    for (const key of ["stats", "failures", "exceptions"] as const) {
      checkWritable(this.#paths[key], "CSV file");
    }
    this.#history = options.history ??
      openFileSink(this.#paths.history, { what: "CSV history file" });
    this.#history.write(csvRow(HISTORY_COLUMNS));
  }

  readonly request = {
    interval: (snapshot: IntervalSnapshot) => {
      this.#latencies.add(snapshot.elapsedMs, snapshot.cells);
      if (this.#closed) return;
      this.#history.write(
        historyRows(snapshot, this.#latencies, this.#fullHistory).map(csvRow).join(""),
      );
    },
    final: async (snapshot: FinalSnapshot) => {
      this.#written = this.#writeWhole(
        statsRows(snapshot),
        failureRows(snapshot.failures),
        exceptionRows(snapshot.failures),
      );
      await this.#written;
    },
  };

  readonly output = {
    stop: async () => {
      if (!this.#closed) {
        this.#closed = true;
        this.#history.close?.();
      }
      // No final stats (the run failed before its end): the files say so by having no rows.
      if (this.#written === null) this.#written = this.#writeWhole([], [], []);
      await this.#written;
    },
  };

  async #writeWhole(stats: Cell[][], failures: Cell[][], exceptions: Cell[][]): Promise<void> {
    await writeFileAtomic(this.#paths.stats, csvText(STATS_COLUMNS, stats));
    await writeFileAtomic(this.#paths.failures, csvText(FAILURES_COLUMNS, failures));
    await writeFileAtomic(this.#paths.exceptions, csvText(EXCEPTIONS_COLUMNS, exceptions));
  }
}

/** The `csv` recorder: Locust's CSV files under `--csv PREFIX`. */
export const locustCsvRecorder: RecorderPlugin = {
  id: "csv",
  description: "Locust's CSV files: PREFIX_stats.csv, _stats_history.csv, _failures.csv, " +
    "_exceptions.csv (--csv PREFIX turns it on)",
  options: [
    {
      flags: "--csv-full-history",
      description: "a history row for every endpoint every interval, not only Aggregated",
      env: "STAMPEDE_CSV_FULL_HISTORY",
    },
  ],
  create(context: RecorderContext) {
    // `--csv PREFIX` is a flag of the run (cli.ts); run.ts hands it to the recorder as `csv`.
    const prefix = stringOption(context.options, "csv");
    if (prefix === undefined) {
      throw new UsageError(
        'Cannot use recorder "csv": it needs a file prefix; pass --csv PREFIX (it turns the recorder on by itself)',
      );
    }
    return new LocustCsvRecorder({
      prefix,
      fullHistory: booleanOption(context.options, "csvFullHistory"),
    });
  },
};
