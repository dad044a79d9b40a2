// The console recorder: a live view on stderr every interval (a progress bar on a terminal, plain
// lines elsewhere), the tables per endpoint at the end (with thresholds and checks when present).
import { formatDuration } from "../core/duration.ts";
import { iterationTotals } from "../core/stats/iterations.ts";
import type {
  FinalSnapshot,
  IntervalSnapshot,
  LifecycleEvent,
  Recorder,
  RecorderContext,
  RecorderPlugin,
} from "../core/recorder/types.ts";
import type { TextSink } from "../core/sink.ts";
import type { EndpointStats } from "../core/stats/types.ts";

/** Latency in ms with precision that fits its size. */
export function formatMs(ms: number): string {
  if (ms === 0) return "0";
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return ms.toFixed(0);
}

function percent(part: number, whole: number): string {
  return whole === 0 ? "0.00%" : `${((100 * part) / whole).toFixed(2)}%`;
}

/** Where a run with stages is: its current stage, from `stage_started`. */
export interface StageState {
  stage: number;
  /** The stage's target users. */
  users: number;
  durationMs: number;
  /** When it began, Unix ms. */
  startedAtMs: number;
}

/** The stats of the live view: users, current RPS, failures and percentiles, requests so far. */
function statsText(s: IntervalSnapshot): string {
  const w = s.window.total;
  const p = (q: string) => formatMs(w.percentilesMs[q] ?? 0);
  return `users ${s.users} | ${w.rps.toFixed(1)} req/s | failures ${
    percent(w.failures, w.requests)
  }` +
    ` | p50 ${p("50")} ms  p95 ${p("95")} ms  p99 ${p("99")} ms` +
    ` | total ${s.cumulative.total.requests} req`;
}

/** Whole seconds of `ms`, as a duration: 12_400 → `12s`. */
function wholeSeconds(ms: number): string {
  return formatDuration(Math.max(0, Math.floor(ms / 1000)) * 1000);
}

/** Elapsed / planned and what is left (`12s / 30s, 18s left`), or `12s / ∞` with no known end. */
export function progressText(s: IntervalSnapshot): string {
  if (s.runTimeMs === null) return `${wholeSeconds(s.elapsedMs)} / ∞`;
  const leftMs = Math.max(0, Math.ceil((s.runTimeMs - s.elapsedMs) / 1000) * 1000);
  return `${wholeSeconds(s.elapsedMs)} / ${formatDuration(s.runTimeMs)}, ${
    formatDuration(leftMs)
  } left`;
}

/** Cells of the progress bar. */
export const BAR_WIDTH = 20;

/** A bar of `width` cells, `fraction` (0–1) of them filled: `[█████░░░░░░░░░░░░░░░]`. */
export function progressBar(fraction: number, width = BAR_WIDTH): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}]`;
}

function stageText(stage: StageState): string {
  return `stage ${stage.stage} → ${stage.users} users`;
}

/** The plain live line, one per interval when stderr is not a terminal. */
export function liveLine(s: IntervalSnapshot, stage: StageState | null = null): string {
  return `[${progressText(s)}] ${stage ? `stage ${stage.stage} | ` : ""}${statsText(s)}`;
}

/**
 * The live view on a terminal: for a run with a known end, a progress bar with the elapsed and
 * remaining time and the current stage; for stages without one, the current stage's own bar;
 * else the plain line.
 */
export function liveView(s: IntervalSnapshot, stage: StageState | null): string {
  if (s.runTimeMs !== null && s.runTimeMs > 0) {
    const fraction = Math.min(1, s.elapsedMs / s.runTimeMs);
    return `${progressBar(fraction)} ${Math.floor(fraction * 100)}% ${progressText(s)}` +
      `${stage ? ` · ${stageText(stage)}` : ""} | ${statsText(s)}`;
  }
  const atMs = Date.parse(s.at);
  if (stage !== null && stage.durationMs > 0 && Number.isFinite(atMs)) {
    const inStageMs = Math.max(0, atMs - stage.startedAtMs);
    return `${stageText(stage)} ${progressBar(inStageMs / stage.durationMs)} ` +
      `${wholeSeconds(inStageMs)} / ${formatDuration(stage.durationMs)} of the stage, ` +
      `${wholeSeconds(s.elapsedMs)} in all | ${statsText(s)}`;
  }
  return liveLine(s, stage);
}

/** `line` cut to fit `columns` (a wrapped line could not be redrawn in place). */
export function fitToWidth(line: string, columns: number | undefined): string {
  if (columns === undefined || columns < 2 || line.length < columns) return line;
  return `${line.slice(0, columns - 2)}…`;
}

const TABLE_PERCENTILES = ["50", "90", "95", "99", "99.9"];

function table(rows: string[][], alignLeft: number): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((row) =>
    row.map((cell, i) => i < alignLeft ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))
      .join("  ").trimEnd()
  ).join("\n");
}

/** The end-of-run tables: requests per endpoint and in total, then failures. */
export function finalTables(final: FinalSnapshot): string {
  const row = (e: EndpointStats): string[] => [
    e.method,
    e.name,
    String(e.requests),
    `${e.failures} (${percent(e.failures, e.requests)})`,
    e.rps.toFixed(2),
    formatMs(e.minMs),
    ...TABLE_PERCENTILES.map((p) => formatMs(e.percentilesMs[p] ?? 0)),
    formatMs(e.maxMs),
  ];
  const { cumulative } = final;
  const rows = [
    [
      "Type",
      "Name",
      "# reqs",
      "# fails",
      "req/s",
      "min",
      "med",
      "p90",
      "p95",
      "p99",
      "p99.9",
      "max",
    ],
    ...cumulative.endpoints.map(row),
    ["", "Aggregated", ...row(cumulative.total).slice(2)],
  ];
  const lines = [
    `Requests (latencies in ms) over ${
      formatDuration(final.elapsedMs)
    }, ${final.users} users, stopped: ${final.reason}`,
    table(rows, 2),
  ];
  if (cumulative.total.aborted > 0) {
    lines.push(
      `${cumulative.total.aborted} requests were cut off by the stop (aborted: not counted)`,
    );
  }
  if (cumulative.total.retries > 0) {
    lines.push(
      `${cumulative.total.retries} requests were sent again on a fresh connection after a reused one closed unanswered (retries: their first attempt went unanswered)`,
    );
  }
  const { started, dropped } = iterationTotals(final.iterations);
  if (started + dropped > 0) {
    lines.push(
      `Iterations: ${started} started${
        dropped > 0
          ? `, ${dropped} dropped (no user of the pool free within the lateness bound)`
          : ""
      }`,
    );
  }
  lines.push(...correctedTable(final));
  if (final.failures.length > 0) {
    lines.push(
      "",
      "Failures",
      table([
        ["# occurrences", "Type", "Name", "Error"],
        ...final.failures.map((f) => [String(f.occurrences), f.method, f.name, f.error]),
      ], 4),
    );
  }
  return lines.join("\n") + "\n" + verdictTables(final);
}

/**
 * Latency from when each iteration was due (arrival rates, pacing), beside the table above's
 * service time: the wait for a free user or a late start is in it. Empty when not corrected.
 */
function correctedTable(final: FinalSnapshot): string[] {
  const { cumulative } = final;
  const rows = [...cumulative.endpoints, cumulative.total].filter((e) =>
    e.correctedPercentilesMs !== undefined
  );
  if (rows.length === 0) return [];
  const row = (e: EndpointStats, total: boolean): string[] => [
    total ? "" : e.method,
    total ? "Aggregated" : e.name,
    ...TABLE_PERCENTILES.map((p) => formatMs(e.correctedPercentilesMs?.[p] ?? 0)),
    formatMs(e.correctedMaxMs ?? 0),
  ];
  return [
    "",
    "Corrected latency (ms from when each iteration was due, coordinated omission included)",
    table([
      ["Type", "Name", "med", "p90", "p95", "p99", "p99.9", "max"],
      ...rows.map((e) => row(e, e === cumulative.total)),
    ], 2),
  ];
}

/** Thresholds and checks, when the run has them. */
export function verdictTables(final: FinalSnapshot): string {
  const { thresholds, checks } = final;
  const lines: string[] = [];
  if (thresholds.length > 0) {
    const crossed = thresholds.filter((t) => !t.ok).length;
    lines.push(
      "",
      `Thresholds: ${crossed === 0 ? "all held" : `${crossed} crossed`}`,
      table(
        thresholds.map((t) => [
          t.ok ? "ok" : "CROSSED",
          t.metric,
          t.expression,
          t.value === null ? "no matching requests" : `observed ${formatObserved(t.value)}`,
          Number.isFinite(t.limit) && t.expression.includes("baseline")
            ? `limit ${formatObserved(t.limit)}`
            : "",
        ]),
        5,
      ),
    );
  }
  if (checks.length > 0) {
    lines.push(
      "",
      "Checks",
      table([
        ["", "Check", "Passes", "Fails", "Passed"],
        ...checks.map((c) => [
          c.fails === 0 ? "✓" : "✗",
          c.name,
          String(c.passes),
          String(c.fails),
          percent(c.passes, c.passes + c.fails),
        ]),
      ], 2),
    );
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}

/** A threshold's observed value: ms and rates with the digits that matter. */
function formatObserved(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

/** What latencies measured by an overloaded generator mean, said with every overload warning. */
const INFLATED = "latencies include the generator's own delay: add workers, machines or think time";

/** The console's line for an overload warning or dropped iterations, or null for other events. */
export function overloadWarning(event: LifecycleEvent): string | null {
  switch (event.name) {
    case "iterations_dropped":
      return `iterations were dropped: no user of the ${event.data.kind} pool was free within the lateness bound (the count is in the final stats); raise --users, --max-users or --max-lateness`;
    case "cpu_warning": {
      const { cpu_percent, cpu_wait_percent, threshold_percent, duration_ms } = event.data;
      const wait = cpu_wait_percent ? ` (and waited for one ${cpu_wait_percent} %)` : "";
      return `${event.source} is overloaded: its thread was busy ${cpu_percent} % of a core${wait} ` +
        `for ${formatDuration(duration_ms)} (limit ${threshold_percent} %); ${INFLATED}`;
    }
    case "event_loop_lag_warning":
      return `${event.source} is overloaded: its event loop runs ${event.data.lag_p99_ms} ms late ` +
        `(p99, limit ${event.data.threshold_ms} ms); ${INFLATED}`;
    default:
      return null;
  }
}

/** Options of a {@link ConsoleRecorder}. */
export interface ConsoleRecorderOptions {
  /** The terminal's width in columns (default: Deno.consoleSize(); undefined: unknown). */
  columns?: () => number | undefined;
}

function terminalColumns(): number | undefined {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return undefined;
  }
}

/**
 * A live view on stderr every interval and the final tables on stdout. On a terminal the view is
 * one line redrawn in place (cut to the terminal's width, so it never wraps), with the cursor
 * left at its end; anything else written to stderr (a warning) clears it first and ends with a
 * newline, so the next interval draws it again below. Elsewhere it is one plain line per interval.
 */
export class ConsoleRecorder implements Recorder {
  readonly #live: TextSink;
  readonly #out: TextSink;
  readonly #columns: () => number | undefined;
  #drawn = false;
  #stage: StageState | null = null;
  /** Sources that were overloaded during the run. */
  readonly #overloaded = new Set<string>();

  constructor(live: TextSink, out: TextSink, options: ConsoleRecorderOptions = {}) {
    this.#live = live;
    this.#out = out;
    this.#columns = options.columns ?? terminalColumns;
  }

  readonly lifecycle = {
    event: (event: LifecycleEvent) => {
      if (event.name === "stage_started") {
        const { stage, users, duration_ms } = event.data;
        this.#stage = { stage, users, durationMs: duration_ms, startedAtMs: Date.parse(event.at) };
        return;
      }
      const warning = overloadWarning(event);
      if (warning === null) return;
      if (event.name !== "iterations_dropped") this.#overloaded.add(event.source);
      this.#clearLive();
      this.#live.write(`stampede: warning: ${warning}\n`);
    },
  };

  #clearLive(): void {
    if (this.#drawn) this.#live.write("\r\x1b[2K");
    this.#drawn = false;
  }

  readonly request = {
    interval: (snapshot: IntervalSnapshot) => {
      if (this.#live.isTerminal) {
        const view = fitToWidth(liveView(snapshot, this.#stage), this.#columns());
        this.#live.write(`\r\x1b[2K${view}`);
        this.#drawn = true;
      } else {
        this.#live.write(liveLine(snapshot, this.#stage) + "\n");
      }
    },
    final: (snapshot: FinalSnapshot) => {
      this.#clearLive();
      let text = finalTables(snapshot);
      if (this.#overloaded.size > 0) {
        text += `\nThe load generator was overloaded (${
          [...this.#overloaded].join(", ")
        }): the latencies above include its own delay.\n`;
      }
      this.#out.write(text);
    },
  };
}

/** The default recorder: the live view and the final tables. */
export const consoleRecorder: RecorderPlugin = {
  id: "console",
  description: "live view on stderr (a progress bar on a terminal), tables on stdout at the end",
  create: (context: RecorderContext) => new ConsoleRecorder(context.stderr, context.stdout),
};
