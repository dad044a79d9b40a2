// System samples of a run, gathered once per interval: the coordinator's own thread, process and
// network, and each load worker's thread as its stats arrive. Raises cpu_warning events and
// hands the batch to the recorders.
import type { RecorderSet } from "../recorder/recorder_set.ts";
import type { SystemSample } from "../recorder/types.ts";
import type { GeneratorHealth } from "../stats/summary.ts";
import { type CpuWarningPolicy, CpuWatch, DEFAULT_CPU_WARNING } from "./cpu_watch.ts";
import { LagWatch } from "./lag_watch.ts";
import type { WorkerSystemReadings } from "./protocol.ts";
import { LagMonitor, SystemSampler } from "./system_metrics.ts";

/** The coordinator's event-loop lag timer, as the load workers' own. */
const LAG_TICK_MS = 10;

/** Gathers a run's system samples between two flushes. */
export class SystemReport {
  readonly #recorders: RecorderSet;
  readonly #cpuWatch: CpuWatch;
  readonly #lagWatch = new LagWatch();
  readonly #health: GeneratorHealth = {
    overloaded: false,
    maxCpuPercent: null,
    maxEventLoopLagP99Ms: null,
    warnings: [],
  };
  #pending: SystemSample[] = [];
  #sampler: SystemSampler | null = null;
  #lagTimer: ReturnType<typeof setInterval> | undefined;

  constructor(recorders: RecorderSet, cpuWarning: CpuWarningPolicy = DEFAULT_CPU_WARNING) {
    this.#recorders = recorders;
    this.#cpuWatch = new CpuWatch(cpuWarning);
  }

  /** Starts sampling the coordinator (the run's clock starts); drops samples from before. */
  start(): void {
    const lag = new LagMonitor(LAG_TICK_MS);
    this.#lagTimer = setInterval(() => lag.tick(), LAG_TICK_MS);
    Deno.unrefTimer(this.#lagTimer);
    this.#sampler = new SystemSampler({ thread: true, process: true, network: true, lag });
    this.#pending = [];
  }

  /** A load worker's readings, as they came with its stats. */
  addWorker(source: string, readings: WorkerSystemReadings): void {
    this.#pending.push({ ...readings, source });
  }

  /** Samples the coordinator, checks every sample for overload and hands them out. */
  flush(): void {
    const samples = this.#pending;
    this.#pending = [];
    if (this.#sampler) {
      samples.unshift({
        at: new Date().toISOString(),
        source: "coordinator",
        ...this.#sampler.sample(),
      });
    }
    if (samples.length === 0) return;
    for (const sample of samples) this.#watch(sample);
    this.#recorders.samples(samples);
  }

  /** How the generator held up so far. */
  health(): GeneratorHealth {
    return { ...this.#health, warnings: [...this.#health.warnings] };
  }

  /** Keeps the worst values and raises a warning when a load thread is overloaded. */
  #watch(sample: SystemSample): void {
    const health = this.#health;
    if (sample.cpuPercent !== undefined) {
      health.maxCpuPercent = Math.max(health.maxCpuPercent ?? 0, sample.cpuPercent);
    }
    if (sample.eventLoopLagP99Ms !== undefined) {
      health.maxEventLoopLagP99Ms = Math.max(
        health.maxEventLoopLagP99Ms ?? 0,
        sample.eventLoopLagP99Ms,
      );
    }
    const cpu = this.#cpuWatch.observe(sample);
    if (cpu) {
      health.overloaded = true;
      health.warnings.push(
        `${cpu.source}: busy ${cpu.cpuPercent} % of a core${
          cpu.cpuWaitPercent ? ` (and waiting for one ${cpu.cpuWaitPercent} %)` : ""
        } for ${cpu.durationMs / 1000} s`,
      );
      this.#recorders.event("cpu_warning", cpu.source, {
        cpu_percent: cpu.cpuPercent,
        ...(cpu.cpuWaitPercent === undefined ? {} : { cpu_wait_percent: cpu.cpuWaitPercent }),
        threshold_percent: cpu.thresholdPercent,
        duration_ms: cpu.durationMs,
      });
    }
    const lag = this.#lagWatch.observe(sample);
    if (lag) {
      health.overloaded = true;
      health.warnings.push(`${lag.source}: event loop late by ${lag.lagP99Ms} ms (p99)`);
      this.#recorders.event("event_loop_lag_warning", lag.source, {
        lag_p99_ms: lag.lagP99Ms,
        threshold_ms: lag.thresholdMs,
      });
    }
  }

  /** Stops the coordinator's lag timer. */
  stop(): void {
    clearInterval(this.#lagTimer);
  }
}
