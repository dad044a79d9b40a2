// The coordinator runs one load test as three steps: start the load workers, run (ramp users,
// merge every worker's stats, feed the recorders each interval) until a stop, then stop the
// workers, collect their last stats and hand out the final snapshot.
import { getLogger } from "npm:@logtape/logtape@2.4.2";
import type { NormalizedUserKind } from "../plan/plan.ts";
import type { RecorderSet } from "../recorder/recorder_set.ts";
import type { FinalSnapshot } from "../recorder/types.ts";
import { type RunInfo, signalReason, type StopReason } from "../run_info.ts";
import { OTHER_NAME, StatsAggregator } from "../stats/aggregator.ts";
import { MAX_CHECK_NAMES, OTHER_CHECKS } from "../stats/checks.ts";
import { iterationTotals } from "../stats/iterations.ts";
import type { GeneratorHealth } from "../stats/summary.ts";
import type { ThresholdEvaluator, ThresholdResult } from "../stats/thresholds.ts";
import type { CpuWarningPolicy } from "./cpu_watch.ts";
import type { SharedTable } from "./data_table.ts";
import type { HttpSettings } from "./protocol.ts";
import { withArrivals } from "./load_profile.ts";
import { type LoadProfile, UserSchedule } from "./ramp.ts";
import { ArrivalSchedule } from "./arrival_schedule.ts";
import { type ArrivalKind, isArrivalKind } from "./arrivals.ts";
import { type Run, runUntilStop, sayCrossed, StopLatch } from "./run_loop.ts";
import { SystemReport } from "./system_report.ts";
import { WorkerPool } from "./worker_pool.ts";
import type { WorkerTransport } from "./worker_transport.ts";

/** The settings of one run, resolved once from flags, env vars, the plan and defaults. */
export interface CoordinatorOptions {
  /** The plan's user kinds, as `definePlan` normalized them. */
  kinds: readonly NormalizedUserKind[];
  /** URL of the plan module that load workers import. */
  planUrl: string;
  run: RunInfo;
  /** How many users run at each moment: a ramp, stages or a shape. */
  profile: LoadProfile;
  /** The users the run is for (the peak, when known), and their spawn rate, as reported. */
  users: number;
  /** Users started per second (Infinity: all at once, or set by the profile). */
  spawnRate: number;
  /** Run time in ms; null runs until stopped. */
  runTimeMs: number | null;
  /** Number of load workers (at most one per user). */
  workers: number;
  /** How long in-flight tasks may finish after the stop, in ms. */
  stopTimeoutMs: number;
  /** How long every load worker may take to load the plan, in ms. */
  loadTimeoutMs: number;
  /** Distinct request names per method kept as rows; the rest are counted as `(other)`. */
  maxNames: number;
  statsIntervalMs: number;
  percentiles: readonly number[];
  /** The run's recorders; the caller that created them stops them. */
  recorders: RecorderSet;
  http: HttpSettings;
  /** The run's thresholds, fed every interval's cells; abortOnFail ones may stop the run. */
  thresholds: ThresholdEvaluator;
  /** The plan's data files, read once (`loadTable`), shared with every worker. */
  data: SharedTable[];
  /** The open-model kinds (their users are pools, outside `profile`); empty for none. */
  arrivals?: ArrivalKind[];
  /** The run ends after this many iterations in total; null or absent for no limit. */
  iterations?: number | null;
  /** Where load workers run: Web Workers, or the coordinator's own thread. */
  transport: WorkerTransport;
  /** Aborting it stops the run gracefully; a reason of `"terminated"` marks a SIGTERM. */
  signal?: AbortSignal;
  /** Aborting it during the stop cuts running tasks off without waiting for the stop timeout. */
  cutOff?: AbortSignal;
  /** When a `cpu_warning` fires (default: above 90 % of a core for 10 s). */
  cpuWarning?: CpuWarningPolicy;
}

/** What a finished run returns. */
export interface RunOutcome {
  run: RunInfo;
  reason: StopReason;
  startedAt: Date;
  endedAt: Date;
  final: FinalSnapshot;
  /** Workers that failed or were lost, with why. */
  workerFailures: string[];
  /** Worker processes (on other machines) that were lost, one line each, with why. */
  workersLost: string[];
  /** How the load generator held up (saturated threads, a lagging event loop). */
  generator: GeneratorHealth;
  /** Every threshold's verdict. */
  thresholds: ThresholdResult[];
}

/** Extra time, past the stop timeout, that a worker gets to send its final stats. */
const FINAL_STATS_GRACE_MS = 5_000;

/** The run's iteration limit as shared memory the workers take from; null for none. */
function iterationBudget(limit: number | null): Int32Array | null {
  if (limit === null) return null;
  const left = new Int32Array(new SharedArrayBuffer(4));
  left[0] = limit;
  return left;
}

/** Whether every closed-model kind's users end after a number of iterations of their own. */
function perUserLimits(kinds: readonly NormalizedUserKind[]): boolean {
  return kinds.length > 0 && kinds.every((k) => k.iterations !== undefined || k.weight === 0);
}

/**
 * Runs one load test: starts the load workers, ramps users, merges the workers' stats deltas,
 * feeds the recorders every interval and stops on time, on a signal, when every user is done
 * or when every worker failed.
 */
export async function coordinate(options: CoordinatorOptions): Promise<RunOutcome> {
  const run = createRun(options);
  const ready = await startWorkers(run);
  // The run's clock starts once every worker is ready: test_start, the summary's started_at
  // and the elapsed time all count from this moment.
  const startedAt = new Date();
  let reason: StopReason;
  if (ready) {
    beginRun(run, startedAt);
    reason = await runUntilStop(run, performance.now());
    getLogger(["stampede", "coordinator"]).info(
      "Stopping ({reason}); waiting up to {stopTimeoutMs} ms for running tasks",
      { reason, stopTimeoutMs: options.stopTimeoutMs },
    );
    await run.pool.stop(options.stopTimeoutMs, FINAL_STATS_GRACE_MS, options.cutOff);
  } else {
    // Stopped while the workers were still loading the plan: no user ever ran.
    reason = signalReason(options.signal);
  }
  return finishRun(run, reason, startedAt);
}

/** The stats aggregator of a run, which warns once when names or checks reach their limit. */
function createAggregator(options: CoordinatorOptions): StatsAggregator {
  return new StatsAggregator({
    percentiles: options.percentiles,
    maxNames: options.maxNames,
    onNameLimit: (method) =>
      getLogger(["stampede", "stats"]).warn(
        "More than {limit} distinct request names for {method}: the rest are counted as {other}; group dynamic URLs with {hint} or raise --max-names",
        { limit: options.maxNames, method, other: OTHER_NAME, hint: '{ name: "/item/:id" }' },
      ),
    onCheckLimit: () =>
      getLogger(["stampede", "stats"]).warn(
        "More than {limit} distinct check names: the rest are counted as {other}; name checks by what they check, not by the data",
        { limit: MAX_CHECK_NAMES, other: OTHER_CHECKS },
      ),
  });
}

/** The pieces of a run: its aggregator, ramp, system report and the pool of its workers. */
function createRun(options: CoordinatorOptions): Run {
  const { recorders } = options;
  const arrivals = (options.arrivals ?? []).map((a) => ({ ...a, untilMs: options.runTimeMs }));
  const peak = options.profile.peak;
  const pools = arrivals.reduce((n, a) => n + a.pool, 0);
  const workers = Math.max(1, Math.min(options.workers, peak === null ? Infinity : peak + pools));
  const aggregator = createAggregator(options);
  const closedKinds = options.kinds.filter((k) => !isArrivalKind(arrivals, k.kind));
  const ramp = new UserSchedule(closedKinds, workers, withArrivals(options.profile, arrivals));
  const system = new SystemReport(recorders, options.cpuWarning);
  const stop = new StopLatch();
  const pool = new WorkerPool(options.transport, workers, recorders, {
    stats(delta, source, readings) {
      aggregator.add(delta);
      if (readings) system.addWorker(source, readings);
    },
    // Every user has ended by itself (StopUser, or the iterations ran out): nothing is left.
    users: () => {
      // The limit is reached when the workers counted as many started (shares of it went to
      // remote processes, so the coordinator's own counter is not the truth there).
      const limit = options.iterations ?? null;
      if (
        limit !== null && iterationTotals(aggregator.iterations()).started >= limit &&
        pool.usersDone()
      ) {
        stop.request("iterations");
      } else if (ramp.profile.endsWithItsUsers && ramp.target > 0 && pool.usersDone()) {
        stop.request(perUserLimits(closedKinds) ? "iterations" : "all_users_stopped");
      }
    },
    allFailed: () => stop.request("failed"),
    // A failed or lost worker's users move to the live ones; a remote worker process's own
    // system samples join its load workers' (distributed runs).
    liveChanged: () => ramp.setLive(pool.liveFlags()),
    sample: (source, readings) => system.addWorker(source, readings),
  });
  return {
    options,
    arrivals,
    workers,
    closedKinds,
    pool,
    ramp,
    aggregator,
    system,
    stop,
    crossed: new Set(),
    schedules: arrivals.map((a) => [a.kind, new ArrivalSchedule(a.stages, a.endless)]),
    saidDropped: false,
  };
}

/** Starts every load worker; false when a signal came before all had loaded the plan. */
function startWorkers(run: Run): Promise<boolean> {
  const { options } = run;
  const budget = iterationBudget(options.iterations ?? null);
  return run.pool.start(
    {
      planUrl: options.planUrl,
      run: options.run,
      statsIntervalMs: options.statsIntervalMs,
      maxNames: options.maxNames,
      workers: run.workers,
      http: options.http,
      data: options.data,
      arrivals: run.arrivals,
      iterations: budget === null ? null : budget.buffer as SharedArrayBuffer,
    },
    options.loadTimeoutMs,
    options.signal,
  );
}

/** Says test_start and starts the run's clock on every worker and the system report. */
function beginRun(run: Run, startedAt: Date): void {
  const { options } = run;
  run.system.start();
  options.recorders.event("test_start", "coordinator", {
    started_at: startedAt.toISOString(),
    users: options.users,
    spawn_rate: Number.isFinite(options.spawnRate) ? options.spawnRate : null,
    run_time_ms: options.runTimeMs,
    workers: run.workers,
    host: options.run.host,
  }, startedAt);
  run.pool.begin(startedAt.getTime());
}

/**
 * The end of a run: the last interval closed, every threshold's verdict, the final snapshot
 * handed to the recorders and test_stop said.
 */
function finishRun(run: Run, reason: StopReason, startedAt: Date): RunOutcome {
  const { options, aggregator, system, pool } = run;
  const endedAt = new Date();
  const durationMs = endedAt.getTime() - startedAt.getTime();
  const cells = aggregator.closeInterval();
  options.thresholds.observe(cells);
  const checks = aggregator.checks();
  const thresholds = options.thresholds.evaluate(durationMs, {
    checks,
    iterations: aggregator.iterations(),
  });
  for (const result of thresholds) if (!result.ok) sayCrossed(run, result);
  const final: FinalSnapshot = {
    at: endedAt.toISOString(),
    elapsedMs: durationMs,
    reason,
    users: run.ramp.peak + run.arrivals.reduce((n, a) => n + a.pool, 0),
    usersByKind: {
      ...run.ramp.peakByKind(),
      ...Object.fromEntries(run.arrivals.map((a) => [a.kind, a.pool])),
    },
    cells,
    cumulative: aggregator.cumulative(durationMs),
    failures: aggregator.failures(),
    histograms: aggregator.cumulativeHistograms(),
    thresholds,
    checks,
    iterations: aggregator.iterations(),
  };
  system.flush();
  system.stop();
  options.recorders.final(final);
  options.recorders.event("test_stop", "coordinator", {
    reason,
    ended_at: endedAt.toISOString(),
    duration_ms: durationMs,
  });
  return {
    run: options.run,
    reason,
    startedAt,
    endedAt,
    final,
    workerFailures: [...pool.failures],
    workersLost: [...pool.lost],
    generator: system.health(),
    thresholds,
  };
}
