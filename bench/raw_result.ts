// The one JSON line the raw loops print for bench/run.ts.
import type { Histogram } from "../core/stats/histogram.ts";

/** Prints `{ requests, errors, seconds, p50_ms, p99_ms }` and exits. */
export function printResult(
  requests: number,
  errors: number,
  seconds: number,
  histogram: Histogram,
): never {
  console.log(JSON.stringify({
    requests,
    errors,
    seconds,
    p50_ms: histogram.getValueAtPercentile(50) / 1000,
    p99_ms: histogram.getValueAtPercentile(99) / 1000,
  }));
  Deno.exit(0);
}
