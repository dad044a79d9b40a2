// `stampede compare BASE.json NEW.json`: two runs' summaries side by side, endpoint by endpoint,
// with the changes that go beyond a tolerance flagged. Percentiles come from the runs' HDR
// histograms when both summaries carry them (exact), else from their percentile fields.
import { decodeHistogram, percentilesUs } from "./histogram.ts";
import type { Summary, SummaryStats } from "./summary.ts";

/** The percentiles compared, as the summary's keys. */
export const COMPARED_PERCENTILES = [50, 95, 99] as const;

/**
 * A percentile is judged only when both runs have at least this many requests at or beyond it
 * (p99 from 500 requests, p95 from 100, p50 from 10): the p99 of a few hundred requests rests on
 * a handful of them, and two runs of the same target differ there by more than any tolerance.
 */
export const MIN_REQUESTS_BEYOND = 5;

/** One measure of one endpoint in both runs. */
export interface ComparedValue {
  base: number | null;
  current: number | null;
  /** (current - base) / base; null when either is missing or the base is 0. */
  change: number | null;
  /** Worse than the base by more than the tolerance. */
  regressed: boolean;
  /** Not judged: too few requests at or beyond the percentile (see MIN_REQUESTS_BEYOND). */
  tooFew?: boolean;
}

/** One endpoint (or the total) in both runs. */
export interface ComparedRow {
  method: string;
  name: string;
  rps: ComparedValue;
  /** Failures / requests. */
  failureRate: ComparedValue;
  /** Latency percentiles in ms, by percentile. */
  percentilesMs: Record<string, ComparedValue>;
}

type Row = SummaryStats & { method?: string; name?: string };

function percentilesOf(row: Row | undefined): Record<string, number> | null {
  if (!row || row.requests === 0) return null;
  if (row.hdr_histogram_us) {
    const values = percentilesUs(decodeHistogram(row.hdr_histogram_us), COMPARED_PERCENTILES);
    return Object.fromEntries(
      COMPARED_PERCENTILES.map((p, i) => [
        String(p),
        Math.min(row.max_ms, Math.max(row.min_ms, values[i] / 1000)),
      ]),
    );
  }
  return Object.fromEntries(
    COMPARED_PERCENTILES.map((p) => [String(p), row.percentiles_ms[String(p)]]),
  );
}

function compared(
  base: number | null | undefined,
  current: number | null | undefined,
  worse: (change: number, base: number, current: number) => boolean,
): ComparedValue {
  const b = base ?? null;
  const c = current ?? null;
  const change = b !== null && c !== null && b !== 0 ? (c - b) / b : null;
  return {
    base: b,
    current: c,
    change,
    regressed: b !== null && c !== null && worse(change ?? 0, b, c),
  };
}

/**
 * Compares `current` with `base`, row by row (the total first, then every endpoint of either
 * run). `tolerance` is a fraction: 0.1 flags latencies 10 % higher, throughput 10 % lower, and
 * a failure rate higher by more than 1 point.
 */
export function compareSummaries(
  base: Summary,
  current: Summary,
  tolerance: number,
): ComparedRow[] {
  const key = (r: { method: string; name: string }) => `${r.method} ${r.name}`;
  const baseRows = new Map(base.endpoints.map((e) => [key(e), e as Row]));
  const currentRows = new Map(current.endpoints.map((e) => [key(e), e as Row]));
  const names = [...new Set([...baseRows.keys(), ...currentRows.keys()])].sort();
  const rows: [string, string, Row | undefined, Row | undefined][] = [
    ["", "Aggregated", base.totals, current.totals],
    ...names.map((n): [string, string, Row | undefined, Row | undefined] => {
      const r = (baseRows.get(n) ?? currentRows.get(n))!;
      return [r.method!, r.name!, baseRows.get(n), currentRows.get(n)];
    }),
  ];
  return rows.map(([method, name, b, c]) => {
    const bp = percentilesOf(b);
    const cp = percentilesOf(c);
    const rate = (r: Row | undefined) => r && r.requests > 0 ? r.failures / r.requests : null;
    return {
      method,
      name,
      rps: compared(b?.rps, c?.rps, (change) => change < -tolerance),
      failureRate: compared(rate(b), rate(c), (_, bv, cv) => cv - bv > 0.01),
      percentilesMs: Object.fromEntries(
        COMPARED_PERCENTILES.map((p) => {
          const value = compared(bp?.[String(p)], cp?.[String(p)], (change) => change > tolerance);
          const enough = (r: Row | undefined) =>
            (r?.requests ?? 0) * (1 - p / 100) >= MIN_REQUESTS_BEYOND;
          if (value.base !== null && value.current !== null && !(enough(b) && enough(c))) {
            value.regressed = false;
            value.tooFew = true;
          }
          return [String(p), value];
        }),
      ),
    };
  });
}

function number(value: number | null, digits: number): string {
  return value === null ? "–" : value.toFixed(digits);
}

function cell(v: ComparedValue, digits: number, percent = false): string {
  const scale = percent ? 100 : 1;
  const text = `${number(v.base === null ? null : v.base * scale, digits)} → ${
    number(v.current === null ? null : v.current * scale, digits)
  }`;
  const change = v.change === null
    ? ""
    : ` (${v.change >= 0 ? "+" : ""}${(v.change * 100).toFixed(1)}%)`;
  return `${text}${percent ? "" : change}${v.regressed ? " !" : v.tooFew ? " ~" : ""}`;
}

/**
 * The comparison as a table for the terminal; `!` marks a regression, `~` a percentile not
 * judged (too few requests beyond it).
 */
export function comparisonTable(rows: ComparedRow[]): string {
  const header = [
    "Type",
    "Name",
    "req/s",
    "failures %",
    ...COMPARED_PERCENTILES.map((p) => `p${p} ms`),
  ];
  const lines = [
    header,
    ...rows.map((r) => [
      r.method,
      r.name,
      cell(r.rps, 1),
      cell(r.failureRate, 2, true),
      ...COMPARED_PERCENTILES.map((p) => cell(r.percentilesMs[String(p)], 2)),
    ]),
  ];
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return lines.map((l) => l.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

/** Whether any row regressed. */
export function regressed(rows: ComparedRow[]): boolean {
  return rows.some((r) =>
    r.rps.regressed || r.failureRate.regressed ||
    Object.values(r.percentilesMs).some((v) => v.regressed)
  );
}
