// A run's settings, each resolved once from its options, the plan and the defaults, and handed
// down to the coordinator.
import { parseDuration } from "../duration.ts";
import { UsageError } from "../errors.ts";
import { DEFAULT_TIMEOUT_MS } from "../http/client.ts";
import { DEFAULT_HTTP_ENGINE, HTTP_ENGINES } from "../http/engine.ts";
import { type Plan, planTimeoutMs, userKindsOf } from "../plan/plan.ts";
import { MAX_ITERATIONS, planThresholds } from "../plan/validate.ts";
import { parseArrivalRate, resolveArrivals } from "../run/arrivals.ts";
import type { CoordinatorOptions } from "../run/coordinator.ts";
import { inlineTransport } from "../run/inline_transport.ts";
import { withPlanCode } from "../run/plan_code_transport.ts";
import type { HttpSettings } from "../run/protocol.ts";
import { webWorkerTransport } from "../run/web_worker_transport.ts";
import type { WorkerTransport } from "../run/worker_transport.ts";
import type { TraceSettings } from "../span_sink.ts";
import { DEFAULT_MAX_NAMES } from "../stats/aggregator.ts";
import { readSummaryFile } from "../stats/summary_file.ts";
import { ThresholdEvaluator } from "../stats/thresholds.ts";
import { DEFAULT_PERCENTILES } from "../stats/types.ts";
import { parseThresholdFlag, parseThresholds } from "../threshold_syntax.ts";
import { resolveProfile, wholeCount } from "./load_model.ts";
import type { RunOptions } from "./run_options.ts";

/** The most distinct names per method a run may keep (each costs about 300 KB). */
const MAX_NAMES_LIMIT = 100_000;

/** More load workers than this is a mistake, not a plan: each is a thread. */
const MAX_WORKERS = 1024;

/** How long a plan may take to load when nothing says otherwise. */
export const DEFAULT_LOAD_TIMEOUT = "60s";

/**
 * The HTTP settings of every user: run options win over the plan's `http`; `traces` resolves
 * the trace settings (run.ts: they name the otel recorder's span sink).
 */
function resolveHttp(
  options: RunOptions,
  plan: Plan,
  host: string,
  traces: (options: RunOptions) => TraceSettings | null,
): HttpSettings {
  const engine = options.httpEngine ?? plan.http?.engine ?? DEFAULT_HTTP_ENGINE;
  if (!(HTTP_ENGINES as readonly string[]).includes(engine)) {
    throw new UsageError(
      `Cannot use HTTP engine "${engine}": it is not one of ${HTTP_ENGINES.join(", ")}`,
    );
  }
  const insecure = options.insecure ?? plan.http?.insecure ?? false;
  if (insecure && engine === "fetch") {
    throw new UsageError(
      'Cannot skip certificate checks with the HTTP engine "fetch": Deno\'s fetch always checks them in-process; use the h1 engine, or run deno with --unsafely-ignore-certificate-errors instead of --insecure',
    );
  }
  return {
    host,
    engine,
    insecure,
    timeoutMs: planTimeoutMs(plan.http) ?? DEFAULT_TIMEOUT_MS,
    headers: { ...plan.http?.headers },
    traces: traces(options),
  };
}

/** The run's settings without its recorders: every flag, env var and plan default, once. */
export type RunSettings = Omit<
  CoordinatorOptions,
  "run" | "recorders" | "signal" | "cutOff" | "data" | "thresholds"
>;

/** The run's thresholds: the plan's and `--threshold`'s, with the baseline run they may name. */
export async function resolveThresholds(
  plan: Plan,
  options: RunOptions,
): Promise<ThresholdEvaluator> {
  const flags: Record<string, string[]> = {};
  for (const text of options.thresholds ?? []) {
    const [metric, expression] = parseThresholdFlag(text);
    (flags[metric] ??= []).push(expression);
  }
  const thresholds = [
    ...planThresholds(plan),
    ...parseThresholds(flags, (d) => parseDuration(d, "delayAbortEval")),
  ];
  const needsBaseline = thresholds.find((t) => t.expression.baseline);
  if (needsBaseline && !options.baseline) {
    throw new UsageError(
      `Cannot use threshold "${needsBaseline.metricText}: ${needsBaseline.expressionText}": it compares with a baseline run; pass --baseline SUMMARY.json`,
    );
  }
  const baseline = options.baseline
    ? await readSummaryFile(options.baseline, "baseline")
    : undefined;
  return new ThresholdEvaluator(thresholds, baseline);
}

/**
 * The run's settings: every flag, env var and plan default, resolved once. `traces` resolves the
 * trace settings when the HTTP settings are (an error about them comes after the load model's).
 */
export function resolveSettings(
  plan: Plan,
  planUrl: string | null,
  planCode: string | undefined,
  host: string,
  options: RunOptions,
  traces: (options: RunOptions) => TraceSettings | null,
): RunSettings {
  const load = plan.load ?? {};
  const kinds = userKindsOf(plan);
  const arrivals = resolveArrivals(kinds, load, {
    ...options,
    arrivalRate: options.arrivalRate === undefined
      ? undefined
      : parseArrivalRate(options.arrivalRate),
  });
  const { profile, users, spawnRate } = resolveProfile(options, load, kinds);
  const iterationsInput = options.iterations ?? load.iterations;
  const iterations = iterationsInput === undefined
    ? null
    : wholeCount(iterationsInput, "iterations", MAX_ITERATIONS);
  if (iterations === 0) {
    throw new UsageError("Cannot use iterations 0: the run would start none; give 1 or more");
  }
  const runTimeInput = options.runTime ?? load.duration;
  const runTimeMs = runTimeInput === undefined ? null : parseDuration(runTimeInput, "run time");
  const http = resolveHttp(options, plan, host, traces);
  const defaultWorkers = planUrl ? navigator.hardwareConcurrency || 1 : 0;
  const workers = wholeCount(options.workers ?? defaultWorkers, "workers", MAX_WORKERS);
  if (workers > 0 && !planUrl) {
    throw new UsageError(
      "Cannot run a plan object in Web Workers without its module URL; pass planUrl: import.meta.url or workers: 0",
    );
  }
  const statsIntervalMs = parseDuration(options.statsInterval ?? "1s", "stats interval");
  if (statsIntervalMs < 100 || statsIntervalMs > 3_600_000) {
    throw new UsageError(
      `Cannot use stats interval "${options.statsInterval}": it must be between 100ms and 1h`,
    );
  }
  const percentiles = options.percentiles ?? DEFAULT_PERCENTILES;
  for (const p of percentiles) {
    if (!(p > 0 && p <= 100)) {
      throw new UsageError(`Cannot use percentile "${p}": need 0 < p <= 100`);
    }
  }
  return {
    kinds,
    arrivals,
    iterations,
    planUrl: planUrl ?? "inline:",
    profile,
    users: users + arrivals.reduce((n, a) => n + a.pool, 0),
    spawnRate,
    runTimeMs,
    workers: Math.max(1, workers),
    stopTimeoutMs: parseDuration(options.stopTimeout ?? 0, "stop timeout"),
    loadTimeoutMs: parseDuration(options.loadTimeout ?? DEFAULT_LOAD_TIMEOUT, "load timeout"),
    maxNames: wholeCount(options.maxNames ?? DEFAULT_MAX_NAMES, "max names", MAX_NAMES_LIMIT),
    statsIntervalMs,
    percentiles,
    http,
    transport: transportFor(plan, workers, planCode),
  };
}

/**
 * Where the load workers run: on this thread (0 workers), else in Web Workers, which get a
 * bundled plan as code to evaluate instead of a module to import.
 */
function transportFor(plan: Plan, workers: number, planCode: string | undefined): WorkerTransport {
  if (workers === 0) return inlineTransport(plan);
  return planCode === undefined ? webWorkerTransport : withPlanCode(webWorkerTransport, planCode);
}
