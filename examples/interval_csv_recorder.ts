// A recorder plugin of your own: one CSV line per stats interval and one at the end.
//
//   deno run -A cli.ts examples/shop.plan.ts --recorder console,./examples/interval_csv_recorder.ts \
//     --csv-file results.csv
//
// It shows the whole plugin API: an id, a CLI option with its env var, run metadata, and the
// four handlers (output, lifecycle, request, system). Outside this repository, import them from
// Stampede's "./recorder" export (recorder.ts) by its URL.
import {
  type EndpointStats,
  type FinalSnapshot,
  type IntervalSnapshot,
  type LifecycleEvent,
  openFileSink,
  type RecorderContext,
  type RecorderPlugin,
  stringOption,
  type SystemSample,
} from "../recorder.ts";

/** The CSV columns, in order. */
export const CSV_COLUMNS = [
  "kind", // "interval" or "final"
  "at",
  "run_id",
  "testplan",
  "users",
  "requests",
  "failures",
  "rps", // current (last 10 s) for an interval, over the run for the final line
  "p50_ms",
  "p95_ms",
  "p99_ms",
  "max_cpu_percent", // the busiest load-generating thread in the latest samples
  "cpu_warnings", // sources that got a cpu_warning so far
] as const;

function csvCell(value: string | number): string {
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function createCsvRecorder(context: RecorderContext) {
  const path = stringOption(context.options, "csvFile") ?? "stampede.csv";
  // Append, so several runs can share one file; the header goes in once, into an empty file.
  const isNew = (() => {
    try {
      return Deno.statSync(path).size === 0;
    } catch {
      return true;
    }
  })();
  const file = openFileSink(path, { append: true, what: "CSV file" });
  const writeLine = (cells: (string | number)[]) => file.write(cells.map(csvCell).join(",") + "\n");
  if (isNew) writeLine([...CSV_COLUMNS]);

  let maxCpuPercent: number | "" = "";
  const warnings: string[] = [];
  /** One line: counts from `counts`, the rate and percentiles from `latest`. */
  const writeRow = (
    kind: string,
    at: string,
    users: number,
    counts: EndpointStats,
    latest: EndpointStats,
  ) =>
    writeLine([
      kind,
      at,
      context.run.runId,
      context.run.testplan,
      users,
      counts.requests,
      counts.failures,
      latest.rps.toFixed(2),
      latest.percentilesMs["50"] ?? "",
      latest.percentilesMs["95"] ?? "",
      latest.percentilesMs["99"] ?? "",
      maxCpuPercent,
      warnings.join(" "),
    ]);

  return {
    // output: how records leave; stop() flushes and closes, whatever the reason of the stop.
    output: {
      stop() {
        file.close?.();
      },
    },
    // lifecycle: test start, spawning complete, test stop, cpu_warning, worker started/stopped/failed.
    lifecycle: {
      event(event: LifecycleEvent) {
        if (event.name === "cpu_warning") warnings.push(event.source);
      },
    },
    // request: batches only, once per interval and once at the end, never once per request.
    request: {
      interval(s: IntervalSnapshot) {
        // Counts so far; the rate and percentiles of the current window (the last 10 s).
        writeRow("interval", s.at, s.users, s.cumulative.total, s.window.total);
      },
      final(s: FinalSnapshot) {
        writeRow("final", s.at, s.users, s.cumulative.total, s.cumulative.total);
      },
    },
    // system: CPU, memory, network and event-loop lag of the coordinator and each load worker.
    system: {
      samples(samples: SystemSample[]) {
        const cpus = samples.map((s) => s.cpuPercent).filter((c) => c !== undefined);
        if (cpus.length > 0) maxCpuPercent = Math.max(...cpus);
      },
    },
  };
}

/** The plugin: `--recorder ./examples/interval_csv_recorder.ts` loads its default export. */
const csvRecorder: RecorderPlugin = {
  id: "interval-csv",
  description: "one CSV line per stats interval and one at the end",
  options: [{
    flags: "--csv-file <path>",
    description: "CSV file to append to (default stampede.csv)",
    env: "STAMPEDE_CSV_FILE",
  }],
  // Metadata goes into RunInfo.metadata: on every record of every recorder, and in ctx.run.
  metadata: (options) => ({ csv_file: stringOption(options, "csvFile") ?? "stampede.csv" }),
  create: createCsvRecorder,
};

export default csvRecorder;
