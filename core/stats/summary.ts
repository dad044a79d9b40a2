// The summary file: a run's final stats in one JSON document, with stable snake_case field names
// (CI jobs and other tools read them), written by `--summary PATH` and returned by `run()`.
import { roundTo } from "../numbers.ts";
import type { RunInfo, StopReason } from "../run_info.ts";
import { encodeHistogram, percentilesUs } from "./histogram.ts";
import type { ThresholdResult } from "./thresholds.ts";
import type { CheckResult } from "./checks.ts";
import { type IterationCounts, iterationTotals } from "./iterations.ts";
import {
  type EndpointHistogram,
  endpointKey,
  type EndpointStats,
  type FailureStats,
  type StatsView,
  TOTAL_NAME,
} from "./types.ts";

/**
 * How the load generator itself held up: when a load thread was saturated or its event loop
 * lagged, the latencies it measured include its own delay.
 */
export interface GeneratorHealth {
  /** A cpu_warning or event_loop_lag_warning fired during the run. */
  overloaded: boolean;
  /** The busiest load thread's CPU over any sample, in percent of one core (null: unknown). */
  maxCpuPercent: number | null;
  /** The worst p99 event-loop lag of any load thread over any sample, in ms (null: unknown). */
  maxEventLoopLagP99Ms: number | null;
  /** The warnings, one line each. */
  warnings: string[];
}

/** What a summary is built from: the outcome of a finished run. */
export interface SummarySource {
  run: RunInfo;
  reason: StopReason;
  startedAt: Date;
  endedAt: Date;
  final: {
    users: number;
    cumulative: StatsView;
    failures: FailureStats[];
    /** The whole run's histograms, by endpoint and in total (absent: none in the summary). */
    histograms?: EndpointHistogram[];
    /** Named checks (absent: none). */
    checks?: CheckResult[];
    /** Iterations started and dropped by kind (absent: none counted). */
    iterations?: IterationCounts[];
  };
  /** Load workers that failed or were lost, one line each. */
  workerFailures: readonly string[];
  /** Worker processes on other machines that were lost, one line each. */
  workersLost?: readonly string[];
  /** How the generator held up; absent when nothing was sampled. */
  generator?: GeneratorHealth;
  /** Every threshold's verdict. */
  thresholds?: ThresholdResult[];
}

/** Percentiles the summary always carries, as its keys. */
export const SUMMARY_PERCENTILES = [50, 90, 95, 99, 99.9] as const;

/** Latency stats of one endpoint or of all, as the summary file writes them. */
export interface SummaryStats {
  requests: number;
  failures: number;
  rps: number;
  min_ms: number;
  max_ms: number;
  mean_ms: number;
  percentiles_ms: Record<string, number>;
  /** Every latency of the row, as an HDR histogram in µs (compressed base64), for `compare`
   * and baselines. */
  hdr_histogram_us?: string;
  /**
   * Latency from when each request's iteration was due (arrival rates, pacing): the same keys
   * as `percentiles_ms`, and its max; present when the latency could be corrected.
   */
  corrected_percentiles_ms?: Record<string, number>;
  corrected_max_ms?: number;
}

/** A threshold's verdict, as the summary writes it. */
export interface SummaryThreshold {
  /** The metric with its filters: `http.duration{name:/cart}`. */
  metric: string;
  /** `p(95)<200`. */
  expression: string;
  /** What it observed; null when nothing matched its filter. */
  value: number | null;
  ok: boolean;
  /** What the value was compared with (the baseline's value times its factor, for those). */
  limit: number | null;
}

/**
 * The summary of a run: what `--summary PATH` writes and `run()` returns. Field names are
 * snake_case on purpose: the file format is a contract that other tools read.
 */
export interface Summary {
  run_id: string;
  testplan: string;
  started_at: string;
  ended_at: string;
  duration_s: number;
  /** Peak number of users. */
  users: number;
  /** Why the run ended: completed, interrupted, terminated, all_users_stopped, threshold, failed. */
  stop_reason: StopReason;
  host: string;
  tags: Record<string, string>;
  totals: SummaryStats & {
    aborted: number;
    /** Attempts sent again after a reused connection closed unanswered (h1, idempotent). */
    retries: number;
    bytes: number;
    /** Iterations (task runs) started. */
    iterations: number;
    /** Iterations an arrival-rate schedule had due that no user could start in time. */
    dropped_iterations: number;
  };
  endpoints: (SummaryStats & {
    method: string;
    name: string;
    aborted: number;
    retries: number;
    bytes: number;
  })[];
  failures: { method: string; name: string; error: string; occurrences: number }[];
  /** Load workers that failed or were lost during the run (their last interval is lost). */
  workers_failed: number;
  /**
   * Worker processes (`stampede worker`) lost during a distributed run: each counted once, its
   * last delivered stats kept, its users moved to the live load workers.
   */
  workers_lost: number;
  /**
   * A load thread was saturated or its event loop lagged: the latencies include the
   * generator's own delay (see `generator`).
   */
  generator_overloaded: boolean;
  /** How the load generator held up: its busiest thread, its worst lag, its warnings. */
  generator: {
    max_cpu_percent: number | null;
    max_event_loop_lag_p99_ms: number | null;
    warnings: string[];
  };
  /** Every threshold with what it observed and whether it held; one crossed exits 99. */
  thresholds: SummaryThreshold[];
  /** Every named check: how often it passed and failed. */
  checks: CheckResult[];
  /** Problems of recorders and workers during the run, one line each. */
  problems: string[];
}

function summaryStats(stats: EndpointStats): SummaryStats {
  const percentiles_ms: Record<string, number> = {};
  for (const p of SUMMARY_PERCENTILES) {
    percentiles_ms[String(p)] = stats.percentilesMs[String(p)] ?? 0;
  }
  return {
    requests: stats.requests,
    failures: stats.failures,
    rps: roundTo(stats.rps),
    min_ms: stats.minMs,
    max_ms: stats.maxMs,
    mean_ms: roundTo(stats.meanMs),
    percentiles_ms,
  };
}

/** The corrected percentiles and max of a row, from its run histogram, when it has them. */
function correctedOf(
  entry: EndpointHistogram | undefined,
): Pick<SummaryStats, "corrected_percentiles_ms" | "corrected_max_ms"> {
  const corrected = entry?.correctedHistogram;
  if (!corrected || corrected.totalCount === 0) return {};
  const maxMs = (entry!.correctedMaxUs ?? corrected.maxValue) / 1000;
  const values = percentilesUs(corrected, SUMMARY_PERCENTILES);
  const corrected_percentiles_ms: Record<string, number> = {};
  SUMMARY_PERCENTILES.forEach((p, i) => {
    corrected_percentiles_ms[String(p)] = roundTo(Math.min(maxMs, values[i] / 1000));
  });
  return { corrected_percentiles_ms, corrected_max_ms: roundTo(maxMs) };
}

/** Builds the summary of a finished run. */
export function buildSummary(outcome: SummarySource, problems: string[] = []): Summary {
  const { cumulative, failures } = outcome.final;
  const histograms = new Map(
    (outcome.final.histograms ?? []).map((h) => [endpointKey(h.method, h.name), h]),
  );
  const histogramOf = (method: string, name: string) => {
    const entry = histograms.get(endpointKey(method, name));
    return {
      ...(entry && entry.histogram.totalCount > 0
        ? { hdr_histogram_us: encodeHistogram(entry.histogram) }
        : {}),
      ...correctedOf(entry),
    };
  };
  const iterations = iterationTotals(outcome.final.iterations ?? []);
  return {
    run_id: outcome.run.runId,
    testplan: outcome.run.testplan,
    started_at: outcome.startedAt.toISOString(),
    ended_at: outcome.endedAt.toISOString(),
    duration_s: roundTo((outcome.endedAt.getTime() - outcome.startedAt.getTime()) / 1000),
    users: outcome.final.users,
    stop_reason: outcome.reason,
    host: outcome.run.host,
    tags: { ...outcome.run.tags },
    totals: {
      ...summaryStats(cumulative.total),
      aborted: cumulative.total.aborted,
      retries: cumulative.total.retries,
      bytes: cumulative.total.bytes,
      iterations: iterations.started,
      dropped_iterations: iterations.dropped,
      ...histogramOf("", TOTAL_NAME),
    },
    endpoints: cumulative.endpoints.map((e) => ({
      method: e.method,
      name: e.name,
      ...summaryStats(e),
      aborted: e.aborted,
      retries: e.retries,
      bytes: e.bytes,
      ...histogramOf(e.method, e.name),
    })),
    failures: failures.map((f) => ({ ...f })),
    workers_failed: outcome.workerFailures.length,
    workers_lost: outcome.workersLost?.length ?? 0,
    generator_overloaded: outcome.generator?.overloaded ?? false,
    generator: {
      max_cpu_percent: outcome.generator?.maxCpuPercent ?? null,
      max_event_loop_lag_p99_ms: outcome.generator?.maxEventLoopLagP99Ms ?? null,
      warnings: [...outcome.generator?.warnings ?? []],
    },
    thresholds: (outcome.thresholds ?? []).map((t) => ({
      metric: t.metric,
      expression: t.expression,
      value: t.value === null ? null : roundTo(t.value, 6),
      ok: t.ok,
      limit: Number.isFinite(t.limit) ? roundTo(t.limit, 6) : null,
    })),
    checks: (outcome.final.checks ?? []).map((c) => ({ ...c })),
    problems: [...outcome.workerFailures, ...outcome.workersLost ?? [], ...problems],
  };
}
