// The `report` recorder: one self-contained HTML file (`--report PATH.html`) with the run's facts,
// charts over time, the latency distribution, the tables, failures, checks and thresholds.
// Written whole (atomically) at the end; the path is checked before the run.
import { describeError, UsageError } from "../../core/errors.ts";
import { stringOption } from "../../core/option_values.ts";
import type {
  FinalSnapshot,
  IntervalSnapshot,
  LifecycleEvent,
  Recorder,
  RecorderContext,
  RecorderPlugin,
} from "../../core/recorder/types.ts";
import type { RunInfo } from "../../core/run_info.ts";
import { checkWritable, writeFileAtomic } from "../../core/sink.ts";
import { loadReportAssets } from "./assets.ts";
import { ReportCollector } from "./collect.ts";
import { renderReport } from "./template.ts";

/** Writes the HTML report of one run to `path` when the run ends. */
export class ReportRecorder implements Recorder {
  readonly #path: string;
  readonly #collector: ReportCollector;
  #written = false;

  constructor(path: string, run: RunInfo) {
    checkWritable(path, "report file");
    this.#path = path;
    this.#collector = new ReportCollector(run);
  }

  readonly lifecycle = {
    event: (event: LifecycleEvent) => this.#collector.event(event),
  };

  readonly request = {
    interval: (snapshot: IntervalSnapshot) => this.#collector.interval(snapshot),
    final: (snapshot: FinalSnapshot) => this.#collector.final(snapshot),
  };

  readonly output = {
    // Written at the stop, so the report has test_stop and every warning; once.
    stop: async () => {
      if (this.#written) return;
      this.#written = true;
      const html = renderReport(this.#collector.data(), await loadReportAssets());
      await writeFileAtomic(this.#path, html);
    },
  };
}

/** The `report` recorder: the HTML report under `--report PATH`. */
export const reportRecorder: RecorderPlugin = {
  id: "report",
  description: "one self-contained HTML report with charts (--report PATH turns it on)",
  async create(context: RecorderContext) {
    // `--report PATH` is a flag of the run (cli.ts); run.ts hands it to the recorder as `report`.
    const path = stringOption(context.options, "report");
    if (path === undefined) {
      throw new UsageError(
        'Cannot use recorder "report": it needs a file; pass --report PATH.html (it turns the recorder on by itself)',
      );
    }
    const recorder = new ReportRecorder(path, context.run);
    // Read uPlot now, so a package that cannot be read fails before the run, not after it.
    try {
      await loadReportAssets();
    } catch (cause) {
      throw new UsageError(
        `Cannot write report file "${path}": cannot read the chart library (npm:uplot): ${
          describeError(cause)
        }`,
        { cause },
      );
    }
    return recorder;
  },
};
