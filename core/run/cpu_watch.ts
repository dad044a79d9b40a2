// The cpu_warning: a load-generating thread that stays busy is the bottleneck, and the latencies
// it measures are suspect. Fed with system samples; says so once per source and run.
import { roundTo } from "../numbers.ts";
import type { SystemSample } from "../recorder/types.ts";

/**
 * When a CPU warning fires: a thread busy (on a core, or ready to run and waiting for one) more
 * than `percent` of the time for `forMs`.
 */
export interface CpuWarningPolicy {
  percent: number;
  forMs: number;
}

/** The default: above 90 % of a core for 10 s. */
export const DEFAULT_CPU_WARNING: CpuWarningPolicy = { percent: 90, forMs: 10_000 };

/** A CPU warning for one source. */
export interface CpuWarning {
  source: string;
  /** Mean CPU % of one core over the span above the threshold. */
  cpuPercent: number;
  /** Mean % of that span the thread waited for a core, where the OS tells. */
  cpuWaitPercent?: number;
  thresholdPercent: number;
  /** How long the source has been above the threshold, in ms. */
  durationMs: number;
}

interface WatchState {
  lastMs: number;
  aboveSinceMs: number | null;
  /** CPU time and wait time over the hot span, in ms. */
  cpuMs: number;
  waitMs: number;
  waitKnown: boolean;
  warned: boolean;
}

/**
 * Watches each source's CPU: one whose thread stays busy (running, or runnable and waiting for a
 * core) above the threshold for the whole of `forMs` gets one warning, once per run. Either way
 * the generator is the bottleneck, so its latencies are suspect.
 */
export class CpuWatch {
  readonly #policy: CpuWarningPolicy;
  readonly #sources = new Map<string, WatchState>();

  constructor(policy: CpuWarningPolicy = DEFAULT_CPU_WARNING) {
    this.#policy = policy;
  }

  /** Feeds one sample; returns the warning the first time its source has been hot long enough. */
  observe(sample: SystemSample): CpuWarning | null {
    if (sample.cpuPercent === undefined) return null;
    const atMs = Date.parse(sample.at);
    let state = this.#sources.get(sample.source);
    if (!state) {
      state = {
        lastMs: atMs,
        aboveSinceMs: null,
        cpuMs: 0,
        waitMs: 0,
        waitKnown: false,
        warned: false,
      };
      this.#sources.set(sample.source, state);
    }
    // The sample covers the span before `at`; without its length, the time since the last one.
    const startMs = sample.intervalMs !== undefined ? atMs - sample.intervalMs : state.lastMs;
    state.lastMs = atMs;
    if (state.warned) return null;
    const waitPercent = sample.cpuWaitPercent ?? 0;
    if (sample.cpuPercent + waitPercent <= this.#policy.percent) {
      state.aboveSinceMs = null;
      state.cpuMs = state.waitMs = 0;
      state.waitKnown = false;
      return null;
    }
    state.aboveSinceMs ??= startMs;
    state.cpuMs += (sample.cpuPercent / 100) * (atMs - startMs);
    state.waitMs += (waitPercent / 100) * (atMs - startMs);
    if (sample.cpuWaitPercent !== undefined) state.waitKnown = true;
    const durationMs = atMs - state.aboveSinceMs;
    if (durationMs < this.#policy.forMs) return null;
    state.warned = true;
    const percentOf = (ms: number) => roundTo((100 * ms) / Math.max(1, durationMs), 1);
    return {
      source: sample.source,
      cpuPercent: percentOf(state.cpuMs),
      ...(state.waitKnown ? { cpuWaitPercent: percentOf(state.waitMs) } : {}),
      thresholdPercent: this.#policy.percent,
      durationMs,
    };
  }
}
