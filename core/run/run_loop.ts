// The run proper, between the start and the stop: users ramped on a schedule tick, a snapshot
// handed to the recorders every stats interval, silent workers given up on, until a stop.
import type { NormalizedUserKind } from "../plan/plan.ts";
import { signalReason, type StopReason } from "../run_info.ts";
import type { StatsAggregator } from "../stats/aggregator.ts";
import type { ThresholdResult } from "../stats/thresholds.ts";
import { setLongTimeout } from "../timers.ts";
import type { ArrivalSchedule } from "./arrival_schedule.ts";
import type { ArrivalKind } from "./arrivals.ts";
import type { CoordinatorOptions } from "./coordinator.ts";
import type { UserSchedule } from "./ramp.ts";
import type { SystemReport } from "./system_report.ts";
import type { WorkerPool } from "./worker_pool.ts";

const SCHEDULE_TICK_MS = 100;
/** A worker silent for this many stats intervals (and at least the floor) is lost. */
const SILENT_INTERVALS = 10;
const SILENT_FLOOR_MS = 5_000;

/** The first stop asked for wins; later ones are ignored. */
export class StopLatch {
  #resolve!: (reason: StopReason) => void;
  readonly reason = new Promise<StopReason>((resolve) => this.#resolve = resolve);
  request = (reason: StopReason): void => this.#resolve(reason);
}

/** The pieces one run shares between its steps. */
export interface Run {
  options: CoordinatorOptions;
  /** The open-model kinds, each ending with the run time. */
  arrivals: ArrivalKind[];
  /** Load workers started (at most one per user). */
  workers: number;
  /** The closed-model kinds (those the ramp runs). */
  closedKinds: NormalizedUserKind[];
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

/** Tells the recorders a threshold was crossed, once per threshold. */
export function sayCrossed(run: Run, result: ThresholdResult): void {
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
export async function runUntilStop(run: Run, startMs: number): Promise<StopReason> {
  const { options, stop } = run;
  const elapsedMs = () => performance.now() - startMs;
  const onAbort = () => stop.request(signalReason(options.signal));
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort);
  const cancelRunTimer = options.runTimeMs === null
    ? () => {}
    : setLongTimeout(() => stop.request("completed"), options.runTimeMs);
  if (run.ramp.profile.peak === 0 && options.runTimeMs === null && run.schedules.length === 0) {
    stop.request("completed");
  }
  const scheduleTimer = scheduleUsers(run, elapsedMs);
  const silentMs = Math.max(SILENT_FLOOR_MS, SILENT_INTERVALS * options.statsIntervalMs);
  const statsTimer = setInterval(() => {
    run.pool.checkSilent(silentMs);
    closeInterval(run, elapsedMs);
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

/**
 * Steps the ramp now and every schedule tick: assigns users to workers and says when a stage
 * starts and when the first target is reached. Returns the tick's timer.
 */
function scheduleUsers(run: Run, elapsedMs: () => number): ReturnType<typeof setInterval> {
  const { options, pool, ramp, stop } = run;
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
  const timer = setInterval(schedule, SCHEDULE_TICK_MS);
  schedule();
  return timer;
}

/**
 * Closes the stats interval: feeds the thresholds (an abortOnFail one
 * crossed stops the run) and hands the recorders the interval's snapshot and system samples.
 */
function closeInterval(run: Run, elapsedMs: () => number): void {
  const { options, pool, aggregator } = run;
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
    run.stop.request("threshold");
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
  run.system.flush();
}
