// The summary file: a run's final stats in one JSON document, with stable snake_case field names
// (CI jobs and other tools read them), written by `--summary PATH` and returned by `run()`.
import { roundTo } from "../numbers.ts";
import type { RunInfo, StopReason } from "../run_info.ts";
import type { EndpointStats, FailureStats, StatsView } from "./types.ts";

/** What a summary is built from: the outcome of a finished run. */
export interface SummarySource {
  run: RunInfo;
  reason: StopReason;
  startedAt: Date;
  endedAt: Date;
  final: { users: number; cumulative: StatsView; failures: FailureStats[] };
  /** Load workers that failed or were lost, one line each. */
  workerFailures: readonly string[];
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
  /** Why the run ended: completed, interrupted, terminated, all_users_stopped, failed. */
  stop_reason: StopReason;
  host: string;
  tags: Record<string, string>;
  totals: SummaryStats & { aborted: number; bytes: number };
  endpoints: (SummaryStats & { method: string; name: string; aborted: number; bytes: number })[];
  failures: { method: string; name: string; error: string; occurrences: number }[];
  /** Load workers that failed or were lost during the run (their last interval is lost). */
  workers_failed: number;
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

/** Builds the summary of a finished run. */
export function buildSummary(outcome: SummarySource, problems: string[] = []): Summary {
  const { cumulative, failures } = outcome.final;
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
      bytes: cumulative.total.bytes,
    },
    endpoints: cumulative.endpoints.map((e) => ({
      method: e.method,
      name: e.name,
      ...summaryStats(e),
      aborted: e.aborted,
      bytes: e.bytes,
    })),
    failures: failures.map((f) => ({ ...f })),
    workers_failed: outcome.workerFailures.length,
    problems: [...outcome.workerFailures, ...problems],
  };
}
