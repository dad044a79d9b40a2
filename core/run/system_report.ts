// System samples of a run, gathered once per interval: the coordinator's own thread, process and
// network, and each load worker's thread as its stats arrive. Raises cpu_warning events and
// hands the batch to the recorders.
import type { RecorderSet } from "../recorder/recorder_set.ts";
import type { SystemSample } from "../recorder/types.ts";
import { type CpuWarningPolicy, CpuWatch, DEFAULT_CPU_WARNING } from "./cpu_watch.ts";
import type { WorkerSystemReadings } from "./protocol.ts";
import { LagMonitor, SystemSampler } from "./system_metrics.ts";

/** The coordinator's event-loop lag timer, as the load workers' own. */
const LAG_TICK_MS = 10;

/** Gathers a run's system samples between two flushes. */
export class SystemReport {
  readonly #recorders: RecorderSet;
  readonly #cpuWatch: CpuWatch;
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

  /** Samples the coordinator, checks every sample for a CPU warning and hands them out. */
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
    for (const sample of samples) {
      const warning = this.#cpuWatch.observe(sample);
      if (!warning) continue;
      this.#recorders.event("cpu_warning", warning.source, {
        cpu_percent: warning.cpuPercent,
        ...(warning.cpuWaitPercent === undefined
          ? {}
          : { cpu_wait_percent: warning.cpuWaitPercent }),
        threshold_percent: warning.thresholdPercent,
        duration_ms: warning.durationMs,
      });
    }
    this.#recorders.samples(samples);
  }

  /** Stops the coordinator's lag timer. */
  stop(): void {
    clearInterval(this.#lagTimer);
  }
}
