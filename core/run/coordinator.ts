// The coordinator runs one load test as three steps: start the load workers, run (ramp users,
// merge every worker's stats, feed the recorders each interval) until a stop, then stop the
// workers, collect their last stats and hand out the final snapshot.
import { getLogger } from "npm:@logtape/logtape@2.4.2";
import type { NormalizedUserKind } from "../plan/plan.ts";
import type { RecorderSet } from "../recorder/recorder_set.ts";
import type { FinalSnapshot } from "../recorder/types.ts";
import type { RunInfo, StopReason } from "../run_info.ts";
import { OTHER_NAME, StatsAggregator } from "../stats/aggregator.ts";
import { MAX_CHECK_NAMES, OTHER_CHECKS } from "../stats/checks.ts";
import { iterationTotals } from "../stats/iterations.ts";
import type { GeneratorHealth } from "../stats/summary.ts";
import type { ThresholdEvaluator, ThresholdResult } from "../stats/thresholds.ts";
import { setLongTimeout } from "../timers.ts";
import type { CpuWarningPolicy } from "./cpu_watch.ts";
import type { SharedTable } from "./data_table.ts";
import type { HttpSettings } from "./protocol.ts";
import { type LoadProfile, UserSchedule } from "./ramp.ts";
import { ArrivalSchedule } from "./arrival_schedule.ts";
import { type ArrivalKind, isArrivalKind } from "./arrivals.ts";
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

const SCHEDULE_TICK_MS = 100;
/** Extra time, past the stop timeout, that a worker gets to send its final stats. */
const FINAL_STATS_GRACE_MS = 5_000;
/** A worker silent for this many stats intervals (and at least the floor) is lost. */
const SILENT_INTERVALS = 10;
const SILENT_FLOOR_MS = 5_000;

/** Why a signal stopped the run: its reason says SIGTERM, else it was SIGINT or an abort. */
export function signalReason(signal: AbortSignal | undefined): StopReason {
  return signal?.reason === "terminated" ? "terminated" : "interrupted";
}

/** The first stop asked for wins; later ones are ignored. */
class StopLatch {
  #resolve!: (reason: StopReason) => void;
  readonly reason = new Promise<StopReason>((resolve) => this.#resolve = resolve);
  request = (reason: StopReason): void => this.#resolve(reason);
}

/** The pieces one run shares between its steps. */
interface Run {
  options: CoordinatorOptions;
  pool: WorkerPool;
  ramp: UserSchedule;
  aggregator: StatsAggregator;
  system: SystemReport;
  stop: StopLatch;
  /** Thresholds already said crossed (by metric and expression). */
  crossed: Set<string>;
  /** Each open-model kind's rate profile, for the target rates recorders get. */
  schedules: [string, ArrivalSchedule][];
  /** Whether the first dropped iteration was said. */
  saidDropped: boolean;
}

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
 * The closed-model profile, with the open-model kinds' time: a run of arrival rates alone goes
 * on until their schedules end (for ever for a constant rate, until stopped).
 */
function withArrivals(profile: LoadProfile, arrivals: readonly ArrivalKind[]): LoadProfile {
  if (arrivals.length === 0) return profile;
  const endMs = arrivals.some((a) => a.endless)
    ? null
    : Math.max(...arrivals.map((a) => a.stages.reduce((ms, s) => ms + s.durationMs, 0)));
  const arrivalsOver = (ms: number) => endMs !== null && ms >= endMs;
  return {
    peak: profile.peak,
    endsWithItsUsers: profile.endsWithItsUsers,
    stageAt: profile.stageAt?.bind(profile),
    usersAt(ms) {
      const users = profile.usersAt(ms);
      if (users === null) return arrivalsOver(ms) ? null : 0;
      return users === 0 && profile.peak === 0 && arrivalsOver(ms) ? null : users;
    },
  };
}

/** The configured arrival rate of each open-model kind `elapsedMs` into the run. */
function targetRatesAt(run: Run, elapsedMs: number): Record<string, number> {
  return Object.fromEntries(run.schedules.map(([kind, s]) => [kind, s.rateAt(elapsedMs)]));
}

/** Says the first dropped iteration once, as an event; the count is in the final stats. */
function sayFirstDrop(run: Run): void {
  if (run.saidDropped) return;
  const dropped = run.aggregator.iterations().find((c) => c.dropped > 0);
  if (dropped === undefined) return;
  run.saidDropped = true;
  run.options.recorders.event("iterations_dropped", "coordinator", {
    kind: dropped.kind,
    dropped: dropped.dropped,
  });
}

/**
 * Runs one load test: starts the load workers, ramps users, merges the workers' stats deltas,
 * feeds the recorders every interval and stops on time, on a signal, when every user is done
 * or when every worker failed.
 */
export async function coordinate(options: CoordinatorOptions): Promise<RunOutcome> {
  const { recorders } = options;
  const arrivals = (options.arrivals ?? []).map((a) => ({ ...a, untilMs: options.runTimeMs }));
  const peak = options.profile.peak;
  const pools = arrivals.reduce((n, a) => n + a.pool, 0);
  const workerCount = Math.max(
    1,
    Math.min(options.workers, peak === null ? Infinity : peak + pools),
  );
  const budget = iterationBudget(options.iterations ?? null);
  const aggregator = new StatsAggregator({
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
  const closedKinds = options.kinds.filter((k) => !isArrivalKind(arrivals, k.kind));
  const ramp = new UserSchedule(closedKinds, workerCount, withArrivals(options.profile, arrivals));
  const system = new SystemReport(recorders, options.cpuWarning);
  const stop = new StopLatch();
  const pool = new WorkerPool(options.transport, workerCount, recorders, {
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
  const run: Run = {
    options,
    pool,
    ramp,
    aggregator,
    system,
    stop,
    crossed: new Set(),
    schedules: arrivals.map((a) => [a.kind, new ArrivalSchedule(a.stages, a.endless)]),
    saidDropped: false,
  };

  const ready = await pool.start(
    {
      planUrl: options.planUrl,
      run: options.run,
      statsIntervalMs: options.statsIntervalMs,
      maxNames: options.maxNames,
      workers: workerCount,
      http: options.http,
      data: options.data,
      arrivals,
      iterations: budget === null ? null : budget.buffer as SharedArrayBuffer,
    },
    options.loadTimeoutMs,
    options.signal,
  );
  // The run's clock starts once every worker is ready: test_start, the summary's started_at
  // and the elapsed time all count from this moment.
  const startedAt = new Date();
  let reason: StopReason;
  if (ready) {
    system.start();
    recorders.event("test_start", "coordinator", {
      started_at: startedAt.toISOString(),
      users: options.users,
      spawn_rate: Number.isFinite(options.spawnRate) ? options.spawnRate : null,
      run_time_ms: options.runTimeMs,
      workers: workerCount,
      host: options.run.host,
    }, startedAt);
    pool.begin(startedAt.getTime());
    reason = await runUntilStop(run, performance.now());
    getLogger(["stampede", "coordinator"]).info(
      "Stopping ({reason}); waiting up to {stopTimeoutMs} ms for running tasks",
      { reason, stopTimeoutMs: options.stopTimeoutMs },
    );
    await pool.stop(options.stopTimeoutMs, FINAL_STATS_GRACE_MS, options.cutOff);
  } else {
    // Stopped while the workers were still loading the plan: no user ever ran.
    reason = signalReason(options.signal);
  }
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
    users: ramp.peak + pools,
    usersByKind: {
      ...ramp.peakByKind(),
      ...Object.fromEntries(arrivals.map((a) => [a.kind, a.pool])),
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
  recorders.final(final);
  recorders.event("test_stop", "coordinator", {
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

/** Tells the recorders a threshold was crossed, once per threshold. */
function sayCrossed(run: Run, result: ThresholdResult): void {
  const key = `${result.metric}\u0000${result.expression}`;
  if (run.crossed.has(key)) return;
  run.crossed.add(key);
  run.options.recorders.event("threshold_crossed", "coordinator", {
    metric: result.metric,
    expression: result.expression,
    value: result.value,
  });
}

/**
 * The run proper: ramps users, hands out a snapshot every stats interval and gives up on silent
 * workers, until the run time is over, a signal comes or the pool asks to stop.
 */
async function runUntilStop(run: Run, startMs: number): Promise<StopReason> {
  const { options, pool, ramp, aggregator, system, stop } = run;
  const elapsedMs = () => performance.now() - startMs;
  const onAbort = () => stop.request(signalReason(options.signal));
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort);
  const cancelRunTimer = options.runTimeMs === null
    ? () => {}
    : setLongTimeout(() => stop.request("completed"), options.runTimeMs);
  if (ramp.profile.peak === 0 && options.runTimeMs === null && run.schedules.length === 0) {
    stop.request("completed");
  }

  let stage = 0;
  const schedule = () => {
    const elapsed = elapsedMs();
    const step = ramp.step(elapsed);
    if (step.over) return stop.request("completed");
    const now = ramp.profile.stageAt?.(elapsed);
    if (now && now.stage !== stage) {
      stage = now.stage;
      options.recorders.event("stage_started", "coordinator", {
        stage: now.stage,
        users: now.users,
        duration_ms: now.durationMs,
      });
    }
    if (step.perWorker !== null) pool.assign(step.perWorker);
    if (step.firstTargetReached) {
      options.recorders.event("spawning_complete", "coordinator", {
        users: ramp.target,
        users_by_kind: ramp.usersByKind(),
      });
    }
  };
  const scheduleTimer = setInterval(schedule, SCHEDULE_TICK_MS);
  schedule();

  const silentMs = Math.max(SILENT_FLOOR_MS, SILENT_INTERVALS * options.statsIntervalMs);
  const statsTimer = setInterval(() => {
    pool.checkSilent(silentMs);
    const cells = aggregator.closeInterval();
    const elapsed = elapsedMs();
    sayFirstDrop(run);
    options.thresholds.observe(cells);
    const checks = aggregator.checks();
    const crossed = options.thresholds.crossedAbort(elapsed, {
      checks,
      iterations: aggregator.iterations(),
    });
    if (crossed) {
      sayCrossed(run, crossed);
      stop.request("threshold");
    }
    const usersByKind = pool.usersByKind();
    options.recorders.interval({
      at: new Date().toISOString(),
      elapsedMs: elapsed,
      runTimeMs: options.runTimeMs,
      users: Object.values(usersByKind).reduce((a, b) => a + b, 0),
      usersByKind,
      workers: pool.live,
      window: aggregator.window(),
      cumulative: aggregator.cumulative(elapsed),
      cells,
      failures: aggregator.failures(),
      checks,
      iterations: aggregator.iterations(),
      targetRates: targetRatesAt(run, elapsed),
    });
    system.flush();
  }, options.statsIntervalMs);

  try {
    return await stop.reason;
  } finally {
    cancelRunTimer();
    clearInterval(scheduleTimer);
    clearInterval(statsTimer);
    options.signal?.removeEventListener("abort", onAbort);
  }
}
