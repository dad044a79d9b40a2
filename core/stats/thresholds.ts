// Thresholds evaluated on the merged stats: each keeps the counts and, for latency, the exact
// HDR histogram of the requests its filter matches, fed from every interval's cells, so
// `p(99.9)` over several workers is the value one histogram of every latency would give.
import type { Threshold, ThresholdFilter } from "../threshold_syntax.ts";
import { createHistogram, decodeHistogram, type Histogram, percentilesUs } from "./histogram.ts";
import type { SummaryStats } from "./summary.ts";
import type { IntervalCell } from "./types.ts";
import type { CheckResult } from "./checks.ts";
import type { IterationCounts } from "./iterations.ts";

/** A threshold's verdict: the value it observed, and whether it held. */
export interface ThresholdResult {
  /** The metric with its filters, as written: `http.duration{name:/cart}`. */
  metric: string;
  /** The expression as written: `p(95)<200`. */
  expression: string;
  /** What it observed (ms for latencies, a ratio for rates, requests/s for `http.reqs` rate);
   * null when no request matched (which fails the threshold). */
  value: number | null;
  /** The baseline's value times the factor, for `baseline` expressions. */
  limit: number;
  ok: boolean;
}

/** What a threshold's filter matched so far. */
class Matched {
  requests = 0;
  failures = 0;
  measured = 0;
  sumUs = 0;
  minUs = Infinity;
  maxUs = 0;
  histogram: Histogram | null = null;
  corrected: Histogram | null = null;
  correctedMaxUs = 0;

  /** Adds the corrected latencies of a cell (for `http.duration.corrected`). */
  addCorrected(cell: IntervalCell): void {
    if (!cell.correctedHistogram) return;
    (this.corrected ??= createHistogram()).add(cell.correctedHistogram);
    this.correctedMaxUs = Math.max(this.correctedMaxUs, cell.correctedMaxUs ?? 0);
  }

  add(cell: IntervalCell, withHistogram: boolean): void {
    this.requests += cell.requests;
    if (cell.failed) this.failures += cell.requests;
    if (cell.histogram === null) return;
    this.measured += cell.requests;
    this.sumUs += cell.sumUs;
    this.minUs = Math.min(this.minUs, cell.minUs);
    this.maxUs = Math.max(this.maxUs, cell.maxUs);
    if (withHistogram) (this.histogram ??= createHistogram()).add(cell.histogram);
  }
}

function matches(filter: ThresholdFilter, cell: IntervalCell): boolean {
  return (filter.name === undefined || filter.name === cell.name) &&
    (filter.method === undefined || filter.method === cell.method) &&
    (filter.status === undefined || filter.status === String(cell.status));
}

/** Latency `aggregation` (percentile `p`) of `m`, in ms, bounded by the exact min and max. */
function latencyMs(m: Matched, aggregation: string, p = 50): number | null {
  if (m.measured === 0) return null;
  switch (aggregation) {
    case "avg":
      return m.sumUs / m.measured / 1000;
    case "min":
      return m.minUs / 1000;
    case "max":
      return m.maxUs / 1000;
    default: {
      const [us] = percentilesUs(m.histogram!, [aggregation === "med" ? 50 : p]);
      return Math.min(m.maxUs, Math.max(m.minUs, us)) / 1000;
    }
  }
}

/** The pass rate of the checks `filter` matches (every check without one); null when none ran. */
function checkRate(filter: ThresholdFilter, checks: readonly CheckResult[]): number | null {
  let passes = 0;
  let runs = 0;
  for (const c of checks) {
    if (filter.check !== undefined && c.name !== filter.check) continue;
    passes += c.passes;
    runs += c.passes + c.fails;
  }
  return runs > 0 ? passes / runs : null;
}

/** Corrected latency `aggregation` (percentile `p`) of `m`, in ms, bounded by the exact max. */
function correctedMs(m: Matched, aggregation: string, p = 50): number | null {
  if (m.corrected === null || m.corrected.totalCount === 0) return null;
  if (aggregation === "max") return m.correctedMaxUs / 1000;
  const [us] = percentilesUs(m.corrected, [aggregation === "med" ? 50 : p]);
  return Math.min(m.correctedMaxUs, us) / 1000;
}

/** Dropped iterations of the kinds `filter` matches: their count, or share of those due. */
function droppedOf(
  filter: ThresholdFilter,
  iterations: readonly IterationCounts[],
  aggregation: string,
): number | null {
  let dropped = 0;
  let due = 0;
  for (const c of iterations) {
    if (filter.kind !== undefined && c.kind !== filter.kind) continue;
    dropped += c.dropped;
    due += c.dropped + c.started;
  }
  if (aggregation === "count") return dropped;
  return due > 0 ? dropped / due : null;
}

/** What the run counted besides requests: checks and iterations. */
export interface RunCounts {
  checks?: readonly CheckResult[];
  iterations?: readonly IterationCounts[];
}

/** The value a threshold observes of what it matched, over `elapsedMs` of run time. */
function observed(
  t: Threshold,
  m: Matched,
  elapsedMs: number,
  counts: RunCounts,
): number | null {
  const { aggregation, percentile } = t.expression;
  switch (t.metric) {
    case "checks":
      return checkRate(t.filter, counts.checks ?? []);
    case "http.duration.corrected":
      return correctedMs(m, aggregation, percentile);
    case "iterations.dropped":
      return droppedOf(t.filter, counts.iterations ?? [], aggregation);
    case "http.duration":
      return latencyMs(m, aggregation, percentile);
    case "http.failures":
      if (aggregation === "count") return m.failures;
      return m.requests > 0 ? m.failures / m.requests : null;
    case "http.reqs":
      if (aggregation === "count") return m.requests;
      return elapsedMs > 0 ? m.requests / (elapsedMs / 1000) : null;
  }
}

function holds(value: number, operator: string, limit: number): boolean {
  switch (operator) {
    case "<":
      return value < limit;
    case "<=":
      return value <= limit;
    case ">":
      return value > limit;
    case ">=":
      return value >= limit;
    case "==":
      return value === limit;
    default:
      return value !== limit;
  }
}

/** The rows of a baseline run's summary, as `--baseline` reads them. */
export interface BaselineSummary {
  duration_s: number;
  /** Named checks (summaries of runs before checks existed have none). */
  checks?: CheckResult[];
  totals: SummaryStats & { hdr_histogram_us?: string };
  endpoints: (SummaryStats & { method: string; name: string; hdr_histogram_us?: string })[];
}

/** The value a threshold would have observed in the baseline run, or null when it cannot tell. */
export function baselineValue(t: Threshold, base: BaselineSummary): number | null {
  if (t.metric === "checks") return checkRate(t.filter, base.checks ?? []);
  if (t.metric === "http.duration.corrected" || t.metric === "iterations.dropped") return null;
  if (t.filter.status !== undefined) return null;
  const rows = t.filter.name === undefined && t.filter.method === undefined
    ? [base.totals]
    : base.endpoints.filter((e) =>
      (t.filter.name === undefined || e.name === t.filter.name) &&
      (t.filter.method === undefined || e.method === t.filter.method)
    );
  if (rows.length !== 1) return null;
  const row = rows[0];
  const { aggregation, percentile } = t.expression;
  switch (t.metric) {
    case "http.reqs":
      return aggregation === "count" ? row.requests : row.rps;
    case "http.failures":
      if (aggregation === "count") return row.failures;
      return row.requests > 0 ? row.failures / row.requests : null;
    case "http.duration": {
      if (row.requests === 0) return null;
      if (aggregation === "avg") return row.mean_ms;
      if (aggregation === "min") return row.min_ms;
      if (aggregation === "max") return row.max_ms;
      const p = aggregation === "med" ? 50 : percentile ?? 50;
      if (row.hdr_histogram_us) {
        const [us] = percentilesUs(decodeHistogram(row.hdr_histogram_us), [p]);
        return Math.min(row.max_ms, Math.max(row.min_ms, us / 1000));
      }
      return row.percentiles_ms[String(p)] ?? null;
    }
  }
}

/** A run's thresholds: fed the merged cells of every interval, judged on demand. */
export class ThresholdEvaluator {
  readonly #thresholds: readonly Threshold[];
  readonly #matched: Matched[];
  readonly #limits: (number | null)[];

  /** `baseline`: the summary of an earlier run, for `baseline` expressions. */
  constructor(thresholds: readonly Threshold[], baseline?: BaselineSummary) {
    this.#thresholds = thresholds;
    this.#matched = thresholds.map(() => new Matched());
    this.#limits = thresholds.map((t) => {
      if (!t.expression.baseline) return t.expression.value;
      const base = baseline ? baselineValue(t, baseline) : null;
      return base === null ? null : base * t.expression.value;
    });
  }

  /** Whether the run has thresholds at all. */
  get size(): number {
    return this.#thresholds.length;
  }

  /** Counts one interval's merged cells. */
  observe(cells: readonly IntervalCell[]): void {
    this.#thresholds.forEach((t, i) => {
      if (t.metric === "checks" || t.metric === "iterations.dropped") return;
      for (const cell of cells) {
        if (!matches(t.filter, cell)) continue;
        if (t.metric === "http.duration.corrected") this.#matched[i].addCorrected(cell);
        else this.#matched[i].add(cell, t.metric === "http.duration");
      }
    });
  }

  /** Every threshold's verdict over `elapsedMs` of run time, with the run's counts so far. */
  evaluate(elapsedMs: number, counts: RunCounts = {}): ThresholdResult[] {
    return this.#thresholds.map((t, i) => {
      const value = observed(t, this.#matched[i], elapsedMs, counts);
      const limit = this.#limits[i];
      return {
        metric: t.metricText,
        expression: t.expressionText,
        value,
        limit: limit ?? NaN,
        ok: value !== null && limit !== null && holds(value, t.expression.operator, limit),
      };
    });
  }

  /** The first abortOnFail threshold crossed at `elapsedMs` (past its delay), or null. */
  crossedAbort(elapsedMs: number, counts: RunCounts = {}): ThresholdResult | null {
    const results = this.evaluate(elapsedMs, counts);
    const at = this.#thresholds.findIndex((t, i) =>
      t.abortOnFail && elapsedMs >= t.delayAbortEvalMs && results[i].value !== null &&
      !results[i].ok
    );
    return at < 0 ? null : results[at];
  }
}
