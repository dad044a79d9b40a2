// The stats row the recorders' unit tests build again and again: every field of an
// EndpointStats at zero (the total's name), for a test to set what it is about.
import type { EndpointStats } from "./types.ts";

/** An `Aggregated` row with nothing counted; `over` sets the fields a test cares about. */
export function endpointStats(over: Partial<EndpointStats> = {}): EndpointStats {
  return {
    method: "",
    name: "Aggregated",
    requests: 0,
    failures: 0,
    aborted: 0,
    retries: 0,
    bytes: 0,
    rps: 0,
    failuresPerSec: 0,
    minMs: 0,
    maxMs: 0,
    meanMs: 0,
    percentilesMs: {},
    statuses: {},
    ...over,
  };
}
