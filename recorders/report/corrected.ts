// The hook for corrected latency (latency from when a request was due, not from when it was
// sent: what coordinated omission hides). The recorder contract does not carry it yet; the
// report shows "corrected vs service latency" when the cells and the final histograms carry a
// `correctedHistogram` beside their `histogram`. This file is the one place that reads it.
import type { Histogram } from "../../core/stats/histogram.ts";
import type { EndpointHistogram, IntervalCell } from "../../core/stats/types.ts";

/** A cell or a final histogram that may carry corrected latencies (µs). */
export interface WithCorrected {
  correctedHistogram?: Histogram | null;
}

/** The corrected latencies of an interval cell, when the data carries them. */
export function correctedOfCell(cell: IntervalCell): Histogram | null {
  return (cell as IntervalCell & WithCorrected).correctedHistogram ?? null;
}

/** The whole run's corrected latencies of an endpoint (or the total), when carried. */
export function correctedOfFinal(entry: EndpointHistogram): Histogram | null {
  return (entry as EndpointHistogram & WithCorrected).correctedHistogram ?? null;
}
