import assert from "node:assert/strict";
import { createHistogram, type Histogram } from "../../core/stats/histogram.ts";
import { endpointKey, type IntervalCell } from "../../core/stats/types.ts";
import { LatencyWindow, TOTAL_KEY } from "./latency_window.ts";

function cell(name: string, latenciesMs: number[]): IntervalCell {
  let histogram: Histogram | null = null;
  if (latenciesMs.length > 0) {
    histogram = createHistogram();
    for (const ms of latenciesMs) histogram.recordValue(ms * 1000);
  }
  return {
    method: "GET",
    name,
    status: 200,
    failed: false,
    requests: latenciesMs.length || 1,
    bytes: 0,
    histogram,
    sumUs: latenciesMs.reduce((a, b) => a + b * 1000, 0),
    minUs: Math.min(...latenciesMs) * 1000,
    maxUs: Math.max(...latenciesMs) * 1000,
  };
}

const near = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) <= expected * 0.001 + 0.001, `${actual} != ${expected}`);

Deno.test("the window holds the last 10 s of latencies; the cumulative ones stay", () => {
  const window = new LatencyWindow({ perEndpoint: false });
  window.add(1_000, [cell("/a", [100, 100]), cell("/b", [300])]);
  near(window.windowMs(TOTAL_KEY, [100])![0], 300);
  for (let at = 2_000; at <= 10_000; at += 1_000) window.add(at, [cell("/a", [10])]);
  near(window.windowMs(TOTAL_KEY, [100])![0], 300); // 1 s .. 10 s: still in the window
  window.add(11_000, [cell("/a", [10])]);
  near(window.windowMs(TOTAL_KEY, [100])![0], 10); // the first interval left it
  near(window.cumulativeMs(TOTAL_KEY, [100])![0], 300);
  // Without per-endpoint tracking, only the total is kept.
  assert.equal(window.windowMs(endpointKey("GET", "/a"), [50]), null);
});

Deno.test("per endpoint, the cells of one endpoint merge across statuses; none is null", () => {
  const window = new LatencyWindow({ perEndpoint: true });
  window.add(1_000, [cell("/a", [1, 2, 3]), { ...cell("/a", [50]), status: 500, failed: true }]);
  window.add(2_000, [cell("/b", [])]);
  near(window.windowMs(endpointKey("GET", "/a"), [100])![0], 50);
  near(window.windowMs(endpointKey("GET", "/a"), [50])![0], 2);
  assert.equal(window.windowMs(endpointKey("GET", "/b"), [50]), null); // no latency measured
  for (let at = 3_000; at <= 12_000; at += 1_000) window.add(at, []);
  assert.equal(window.windowMs(endpointKey("GET", "/a"), [50]), null); // all expired
  near(window.cumulativeMs(endpointKey("GET", "/a"), [50])![0], 2);
});
