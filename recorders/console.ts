// The console recorder: a live line on stderr every interval, the tables per endpoint at the end.
import { formatDuration } from "../core/duration.ts";
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

/** The live line: elapsed / total, users, current RPS, failures and current percentiles. */
export function liveLine(s: IntervalSnapshot): string {
  const w = s.window.total;
  const total = s.runTimeMs === null ? "∞" : formatDuration(s.runTimeMs);
  const p = (q: string) => formatMs(w.percentilesMs[q] ?? 0);
  return `[${formatDuration(Math.floor(s.elapsedMs / 1000) * 1000)} / ${total}] ` +
    `users ${s.users} | ${w.rps.toFixed(1)} req/s | failures ${percent(w.failures, w.requests)}` +
    ` | p50 ${p("50")} ms  p95 ${p("95")} ms  p99 ${p("99")} ms` +
    ` | total ${s.cumulative.total.requests} req`;
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
  if (final.thresholds.length > 0) {
    const crossed = final.thresholds.filter((t) => !t.ok).length;
    lines.push(
      "",
      `Thresholds: ${crossed === 0 ? "all held" : `${crossed} crossed`}`,
      table(
        final.thresholds.map((t) => [
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
  return lines.join("\n") + "\n";
}

/** A threshold's observed value: ms and rates with the digits that matter. */
function formatObserved(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

/** What latencies measured by an overloaded generator mean, said with every overload warning. */
const INFLATED = "latencies include the generator's own delay: add workers, machines or think time";

/** The console's line for an overload warning, or null for other events. */
export function overloadWarning(event: LifecycleEvent): string | null {
  switch (event.name) {
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

/** A live view on stderr every interval and the final tables on stdout. */
export class ConsoleRecorder implements Recorder {
  readonly #live: TextSink;
  readonly #out: TextSink;
  #drawn = false;
  /** Sources that were overloaded during the run. */
  readonly #overloaded = new Set<string>();

  constructor(live: TextSink, out: TextSink) {
    this.#live = live;
    this.#out = out;
  }

  readonly lifecycle = {
    event: (event: LifecycleEvent) => {
      const warning = overloadWarning(event);
      if (warning === null) return;
      this.#overloaded.add(event.source);
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
      const line = liveLine(snapshot);
      if (this.#live.isTerminal) {
        this.#live.write(`\r\x1b[2K${line}`);
        this.#drawn = true;
      } else {
        this.#live.write(line + "\n");
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
  description: "live view on stderr, tables per endpoint on stdout at the end",
  create: (context: RecorderContext) => new ConsoleRecorder(context.stderr, context.stdout),
};
