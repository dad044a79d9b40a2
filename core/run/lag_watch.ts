// The event_loop_lag_warning: a load-generating thread whose event loop runs late delays every
// request it times, so its latencies include the generator's own delay. Says so once per
// source, and again each time the lag doubles.
import type { SystemSample } from "../recorder/types.ts";

/** When a lag warning fires: the p99 lag above `lagMs` in `samples` samples in a row. */
export interface LagWarningPolicy {
  lagMs: number;
  samples: number;
}

/** The default: p99 lag above 50 ms in 3 samples in a row (3 s at the default interval). */
export const DEFAULT_LAG_WARNING: LagWarningPolicy = { lagMs: 50, samples: 3 };

/** A lag warning for one source. */
export interface LagWarning {
  source: string;
  /** The highest p99 lag of the samples above the threshold, in ms. */
  lagP99Ms: number;
  thresholdMs: number;
}

interface LagState {
  above: number;
  worstMs: number;
  /** The lag last warned about; the next warning needs twice as much. */
  warnedMs: number;
}

/** Watches each source's event-loop lag. */
export class LagWatch {
  readonly #policy: LagWarningPolicy;
  readonly #sources = new Map<string, LagState>();

  constructor(policy: LagWarningPolicy = DEFAULT_LAG_WARNING) {
    this.#policy = policy;
  }

  /** Feeds one sample; returns a warning when its source has lagged long enough (or worse). */
  observe(sample: SystemSample): LagWarning | null {
    const lagMs = sample.eventLoopLagP99Ms;
    if (lagMs === undefined) return null;
    let state = this.#sources.get(sample.source);
    if (!state) this.#sources.set(sample.source, state = { above: 0, worstMs: 0, warnedMs: 0 });
    if (lagMs <= this.#policy.lagMs) {
      state.above = 0;
      state.worstMs = 0;
      return null;
    }
    state.above++;
    state.worstMs = Math.max(state.worstMs, lagMs);
    if (state.above < this.#policy.samples) return null;
    if (state.warnedMs > 0 && state.worstMs < 2 * state.warnedMs) return null;
    state.warnedMs = state.worstMs;
    return { source: sample.source, lagP99Ms: state.worstMs, thresholdMs: this.#policy.lagMs };
  }
}
