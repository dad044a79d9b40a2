import { getLogger } from "@logtape/logtape";
import { RunError } from "../errors.ts";
import { LoadWorker } from "./load_worker.ts";
import type { HttpEngineOptions } from "../http/engine.ts";
import type { FromWorker, ToWorker, WorkerUsers } from "./protocol.ts";
import { normalizeUsers, type Plan } from "../plan/plan.ts";
import type {
  FinalSnapshot,
  LifecycleEventName,
  RecorderSet,
  StopReason,
  SystemSample,
} from "../recorder/recorder.ts";
import type { RunInfo } from "../run_info.ts";
import { rampTarget, UserAllocator } from "./ramp.ts";
import { StatsAggregator } from "../stats/aggregator.ts";
import {
  type CpuWarningPolicy,
  CpuWatch,
  DEFAULT_CPU_WARNING,
  LagMonitor,
  SystemSampler,
} from "./system_metrics.ts";

/** A load worker as the coordinator sees it: a message port. */
export interface WorkerHandle {
  post(message: ToWorker): void;
  terminate(): void;
}

/** Starts load worker `workerId`, delivering its messages and fatal errors. */
export type WorkerFactory = (
  workerId: number,
  onMessage: (message: FromWorker) => void,
  onError: (message: string) => void,
) => WorkerHandle;

/** Load workers as Web Workers, one event loop (and core) each. */
export const webWorkerFactory: WorkerFactory = (_workerId, onMessage, onError) => {
  const worker = new Worker(new URL("./load_worker_entry.ts", import.meta.url), {
    type: "module",
  });
  worker.onmessage = (event: MessageEvent<FromWorker>) => onMessage(event.data);
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    onError(event.message);
  };
  return { post: (message) => worker.postMessage(message), terminate: () => worker.terminate() };
};

/** One load worker on the coordinator's own event loop, running `plan` without importing it. */
export function inlineWorkerFactory(plan: Plan): WorkerFactory {
  return (_workerId, onMessage) => {
    let closed = false;
    const worker = new LoadWorker((message) => {
      if (!closed) queueMicrotask(() => onMessage(message));
    }, plan);
    return {
      post: (message) => void worker.handle(message),
      terminate: () => closed = true,
    };
  };
}

/** The settings of one run, resolved from flags, env vars, the plan and defaults. */
export interface CoordinatorOptions {
  plan: Plan;
  /** URL of the plan module that Web Workers import. */
  planUrl: string;
  run: RunInfo;
  users: number;
  /** Users started per second. */
  spawnRate: number;
  /** Run time in ms; null runs until stopped. */
  runTimeMs: number | null;
  /** Number of load workers. */
  workers: number;
  /** How long in-flight tasks may finish after the stop, in ms. */
  stopTimeoutMs: number;
  statsIntervalMs: number;
  percentiles: readonly number[];
  recorders: RecorderSet;
  /** The HTTP engine every load worker uses. */
  http?: HttpEngineOptions;
  createWorker: WorkerFactory;
  /** Aborting it stops the run gracefully; its reason may be a {@link StopReason}. */
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
  /** Workers that failed, with why. */
  workerFailures: string[];
}

const SCHEDULE_TICK_MS = 100;
/** The coordinator's event-loop lag timer, as the load workers'. */
const LAG_TICK_MS = 10;
const READY_TIMEOUT_MS = 60_000;
/** Extra time, past the stop timeout, that a worker gets to send its final stats. */
const FINAL_STATS_GRACE_MS = 5_000;
/** A worker silent for this many stats intervals (and at least the floor) is lost. */
const SILENT_INTERVALS = 10;
const SILENT_FLOOR_MS = 5_000;

interface WorkerState {
  id: number;
  source: string;
  handle: WorkerHandle;
  users: WorkerUsers;
  alive: boolean;
  stopped: boolean;
  counts: Record<string, number>;
  /** When the worker last sent anything (performance.now() ms). */
  lastHeardMs: number;
}

/**
 * Runs one load test: starts the load workers, ramps users, merges the workers' stats deltas,
 * feeds the recorders every interval and stops on time, on a signal or when every user is done.
 */
export async function coordinate(options: CoordinatorOptions): Promise<RunOutcome> {
  const log = getLogger(["stampede", "coordinator"]);
  const { recorders, run } = options;
  const kinds = normalizeUsers(options.plan.users);
  const workerCount = Math.max(1, Math.min(options.workers, Math.max(1, options.users)));
  const allocator = new UserAllocator(kinds, workerCount);
  const aggregator = new StatsAggregator({ percentiles: options.percentiles });
  const workerFailures: string[] = [];
  const workers: WorkerState[] = [];
  const event = (
    name: LifecycleEventName,
    source: string,
    data: Record<string, unknown> = {},
    at = new Date(),
  ) => recorders.lifecycle({ name, at: at.toISOString(), source, data });

  // System samples: the coordinator's own every interval, the workers' as their stats arrive.
  const workerSamples: SystemSample[] = [];
  const cpuWatch = new CpuWatch(options.cpuWarning ?? DEFAULT_CPU_WARNING);
  let sampler: SystemSampler | null = null;
  const emitSamples = () => {
    const samples = workerSamples.splice(0);
    if (sampler) {
      samples.unshift({
        at: new Date().toISOString(),
        source: "coordinator",
        ...sampler.sample(),
      });
    }
    if (samples.length === 0) return;
    for (const sample of samples) {
      const warning = cpuWatch.observe(sample);
      if (warning) {
        event("cpu_warning", warning.source, {
          cpu_percent: warning.cpuPercent,
          ...(warning.cpuWaitPercent === undefined
            ? {}
            : { cpu_wait_percent: warning.cpuWaitPercent }),
          threshold_percent: warning.thresholdPercent,
          duration_ms: warning.durationMs,
        });
      }
    }
    recorders.samples(samples);
  };

  const readySet = new Set<number>();
  const warningsSaid = new Set<string>();
  let onReady: (() => void) | null = null;
  let onInitFailure: ((message: string) => void) | null = null;
  let onAllStopped: (() => void) | null = null;
  let requestStop: (reason: StopReason) => void = () => {};

  const liveWorkers = () => workers.filter((w) => w.alive);
  const checkAllStopped = () => {
    if (workers.every((w) => w.stopped || !w.alive)) onAllStopped?.();
  };
  const failWorker = (w: WorkerState, message: string) => {
    if (!w.alive) return;
    w.alive = false;
    w.handle.terminate();
    const line = `${w.source}: ${message}`;
    workerFailures.push(line);
    log.error(`Load worker failed: ${line}`);
    if (onInitFailure) return onInitFailure(line);
    event("worker_failed", w.source, { message });
    checkAllStopped();
    if (liveWorkers().length === 0) requestStop("failed");
  };
  const handleMessage = (w: WorkerState, message: FromWorker) => {
    // A worker given up for lost stays lost: late stats would count twice or out of order.
    if (!w.alive) return;
    w.lastHeardMs = performance.now();
    switch (message.type) {
      case "ready":
        readySet.add(w.id);
        event("worker_started", w.source);
        if (readySet.size === workers.length) onReady?.();
        return;
      case "stats":
      case "stopped":
        if (w.stopped) return;
        if (message.system) workerSamples.push({ ...message.system, source: w.source });
        aggregator.add(message.delta);
        w.users = message.users;
        if (message.type === "stats") return checkUsersDone();
        // The last delta: the worker has ended every user and sends nothing more.
        w.stopped = true;
        event("worker_stopped", w.source);
        checkAllStopped();
        return;
      case "warning":
        // Every worker runs the same plan: a warning all of them give is said once.
        if (warningsSaid.has(message.message)) return;
        warningsSaid.add(message.message);
        log.warn(`${w.source}: ${message.message}`);
        return;
      case "failed":
        return failWorker(w, message.message);
      default: {
        const unknown: never = message;
        log.error(`Unknown message from ${w.source}: ${JSON.stringify(unknown)}`);
      }
    }
  };

  // Start the workers and wait until each has loaded the plan.
  for (let id = 1; id <= workerCount; id++) {
    const state: WorkerState = {
      id,
      source: `worker-${id}`,
      handle: null as unknown as WorkerHandle,
      users: { active: {}, started: 0 },
      alive: true,
      stopped: false,
      counts: {},
      lastHeardMs: performance.now(),
    };
    workers.push(state);
    state.handle = options.createWorker(
      id,
      (message) => handleMessage(state, message),
      (message) => failWorker(state, message),
    );
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new RunError(`Cannot start load workers: not ready within ${READY_TIMEOUT_MS} ms`),
          ),
        READY_TIMEOUT_MS,
      );
      onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      onInitFailure = (line) => {
        clearTimeout(timer);
        reject(new RunError(`Cannot start load worker ${line}`));
      };
      for (const w of workers) {
        w.handle.post({
          type: "init",
          workerId: w.id,
          planUrl: options.planUrl,
          run,
          statsIntervalMs: options.statsIntervalMs,
          http: options.http,
        });
      }
    });
  } catch (error) {
    for (const w of workers) w.handle.terminate();
    throw error;
  } finally {
    onReady = null;
    onInitFailure = null;
  }

  // The run proper.
  const lag = new LagMonitor(LAG_TICK_MS);
  const lagTimer = setInterval(() => lag.tick(), LAG_TICK_MS);
  Deno.unrefTimer(lagTimer);
  sampler = new SystemSampler({ thread: true, process: true, network: true, lag });
  workerSamples.length = 0;
  const startedAt = new Date();
  const startMs = performance.now();
  const elapsedMs = () => performance.now() - startMs;
  // The run's clock starts here, once every worker is ready: test_start, the summary's
  // started_at and the elapsed time all count from this moment.
  event("test_start", "coordinator", {
    started_at: startedAt.toISOString(),
    users: options.users,
    spawn_rate: options.spawnRate,
    run_time_ms: options.runTimeMs,
    workers: workerCount,
    host: run.host,
  }, startedAt);

  let target = 0;
  let spawningComplete = false;
  const usersByKind = () => {
    const counts: Record<string, number> = {};
    for (const w of workers) {
      for (const [kind, n] of Object.entries(w.users.active)) {
        counts[kind] = (counts[kind] ?? 0) + n;
      }
    }
    return counts;
  };
  const schedule = () => {
    const next = rampTarget(elapsedMs(), options.users, options.spawnRate);
    if (next === target && target > 0) return;
    target = next;
    const perWorker = allocator.allocate(target);
    for (const w of workers) {
      const counts = perWorker[w.id - 1];
      if (!w.alive || JSON.stringify(counts) === JSON.stringify(w.counts)) continue;
      w.counts = counts;
      w.handle.post({ type: "users", counts });
    }
    if (target >= options.users && !spawningComplete) {
      spawningComplete = true;
      event("spawning_complete", "coordinator", {
        users: target,
        users_by_kind: allocator.totals(target),
      });
    }
  };
  // Every user has ended by itself (StopUser): nothing is left to run.
  function checkUsersDone() {
    if (!spawningComplete || options.users === 0) return;
    const live = liveWorkers();
    const started = live.reduce((sum, w) => sum + w.users.started, 0);
    const planned = live.reduce(
      (sum, w) => sum + Object.values(w.counts).reduce((a, b) => a + b, 0),
      0,
    );
    const active = live.reduce(
      (sum, w) => sum + Object.values(w.users.active).reduce((a, b) => a + b, 0),
      0,
    );
    if (started >= planned && active === 0) requestStop("all_users_stopped");
  }

  const stopReason = await new Promise<StopReason>((resolve) => {
    let done = false;
    const timers: ReturnType<typeof setTimeout>[] = [];
    requestStop = (reason) => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      clearInterval(scheduleTimer);
      clearInterval(statsTimer);
      options.signal?.removeEventListener("abort", onAbort);
      resolve(reason);
    };
    const onAbort = () => {
      const reason = options.signal?.reason;
      requestStop(reason === "terminated" ? "terminated" : "interrupted");
    };
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener("abort", onAbort);
    if (options.runTimeMs !== null) {
      timers.push(setTimeout(() => requestStop("completed"), options.runTimeMs));
    }
    schedule();
    const scheduleTimer = setInterval(() => {
      if (!spawningComplete) schedule();
    }, SCHEDULE_TICK_MS);
    const silentMs = Math.max(SILENT_FLOOR_MS, SILENT_INTERVALS * options.statsIntervalMs);
    const statsTimer = setInterval(() => {
      for (const w of liveWorkers()) {
        const quietMs = performance.now() - w.lastHeardMs;
        if (quietMs > silentMs) {
          failWorker(w, `sent nothing for ${(quietMs / 1000).toFixed(1)} s; it is lost`);
        }
      }
      const cells = aggregator.closeInterval();
      const elapsed = elapsedMs();
      const byKind = usersByKind();
      recorders.interval({
        at: new Date().toISOString(),
        elapsedMs: elapsed,
        runTimeMs: options.runTimeMs,
        users: Object.values(byKind).reduce((a, b) => a + b, 0),
        usersByKind: byKind,
        workers: liveWorkers().length,
        window: aggregator.window(),
        cumulative: aggregator.cumulative(elapsed),
        cells,
        failures: aggregator.failures(),
      });
      emitSamples();
    }, options.statsIntervalMs);
    if (options.users === 0 && options.runTimeMs === null) requestStop("completed");
  });

  // Stop: in-flight tasks get the stop timeout, then every worker sends its last delta.
  log.info(`Stopping (${stopReason}); waiting up to ${options.stopTimeoutMs} ms for running tasks`);
  const allStopped = new Promise<void>((resolve) => {
    onAllStopped = resolve;
  });
  for (const w of liveWorkers()) w.handle.post({ type: "stop", timeoutMs: options.stopTimeoutMs });
  const cutOff = () => {
    log.warn("Cutting off running tasks now");
    for (const w of liveWorkers()) if (!w.stopped) w.handle.post({ type: "stop", timeoutMs: 0 });
  };
  if (options.cutOff?.aborted) cutOff();
  else options.cutOff?.addEventListener("abort", cutOff, { once: true });
  checkAllStopped();
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    allStopped,
    new Promise<void>((resolve) => {
      graceTimer = setTimeout(resolve, options.stopTimeoutMs + FINAL_STATS_GRACE_MS);
    }),
  ]);
  clearTimeout(graceTimer);
  options.cutOff?.removeEventListener("abort", cutOff);
  for (const w of workers) {
    if (w.alive && !w.stopped) {
      failWorker(w, "sent no final stats in time; its last interval is lost");
    }
    w.handle.terminate();
  }
  const endedAt = new Date();
  const durationMs = endedAt.getTime() - startedAt.getTime();
  const cells = aggregator.closeInterval();
  const final: FinalSnapshot = {
    at: endedAt.toISOString(),
    elapsedMs: durationMs,
    reason: stopReason,
    users: target,
    usersByKind: allocator.totals(target),
    cumulative: aggregator.cumulative(durationMs),
    failures: aggregator.failures(),
    cells,
  };
  emitSamples();
  clearInterval(lagTimer);
  recorders.final(final);
  event("test_stop", "coordinator", {
    reason: stopReason,
    ended_at: endedAt.toISOString(),
    duration_ms: durationMs,
  });
  await recorders.stop(stopReason);
  return { run, reason: stopReason, startedAt, endedAt, final, workerFailures };
}
