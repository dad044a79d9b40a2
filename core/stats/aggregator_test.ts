import assert from "node:assert/strict";
import { createHistogram, percentileMs, recordLatencyUs } from "./histogram.ts";
import { RequestStats } from "./request_stats.ts";
import { StatsAggregator } from "./aggregator.ts";

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

Deno.test("percentiles merged from several workers equal one histogram fed the same values", () => {
  const random = seeded(7);
  const workers = [new RequestStats(), new RequestStats(), new RequestStats()];
  const single = createHistogram();
  let sum = 0;
  const aggregator = new StatsAggregator({ percentiles: [50, 90, 95, 99, 99.9] });
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 20_000; i++) {
      const latencyUs = Math.round(1000 + random() * random() * 400_000);
      workers[i % 3].record("GET", "/x", 200, latencyUs, 10, null);
      recordLatencyUs(single, latencyUs);
      sum += latencyUs;
    }
    for (const w of workers) aggregator.add(w.takeDelta());
    aggregator.closeInterval();
  }
  const view = aggregator.cumulative(3000);
  assert.equal(view.total.requests, 60_000);
  assert.equal(view.total.bytes, 600_000);
  for (const p of [50, 90, 95, 99, 99.9]) {
    assert.equal(view.total.percentilesMs[String(p)], percentileMs(single, p), `p${p}`);
    assert.equal(view.endpoints[0].percentilesMs[String(p)], percentileMs(single, p), `p${p}`);
  }
  assert.equal(view.total.maxMs, single.maxValue / 1000, "max is exact");
  assert.ok(Math.abs(view.total.meanMs - sum / 60_000 / 1000) < 1e-9, "mean is exact");
  assert.equal(view.total.minMs, single.minNonZeroValue / 1000);
  assert.equal(view.total.rps, 20_000);
});

Deno.test("counts split by endpoint, status and outcome, with failures grouped by error", () => {
  const worker = new RequestStats();
  worker.record("GET", "/a", 200, 1500, 3, null);
  worker.record("GET", "/a", 500, 2500, 0, "HTTP 500");
  worker.record("GET", "/a", 500, 2500, 0, "HTTP 500");
  worker.record("POST", "/a", 201, 100, 0, null);
  worker.record("TASK", "buy", 0, -1, 0, "Error: boom");
  worker.abort("GET", "/a");
  const aggregator = new StatsAggregator({});
  aggregator.add(worker.takeDelta());
  const cells = aggregator.closeInterval();
  const view = aggregator.cumulative(1000);
  const getA = view.endpoints.find((e) => e.method === "GET" && e.name === "/a")!;
  assert.equal(getA.requests, 3);
  assert.equal(getA.failures, 2);
  assert.equal(getA.aborted, 1);
  assert.deepEqual(getA.statuses, { "200": 1, "500": 2 });
  const task = view.endpoints.find((e) => e.method === "TASK")!;
  assert.equal(task.requests, 1);
  assert.equal(task.failures, 1);
  assert.equal(task.maxMs, 0, "a task exception has no latency");
  assert.equal(view.total.requests, 5);
  assert.equal(view.total.failures, 3);
  assert.equal(view.total.aborted, 1);
  assert.deepEqual(aggregator.failures(), [
    { method: "GET", name: "/a", error: "HTTP 500", occurrences: 2 },
    { method: "TASK", name: "buy", error: "Error: boom", occurrences: 1 },
  ]);
  const failed500 = cells.find((c) => c.status === 500 && c.failed)!;
  assert.equal(failed500.requests, 2);
  assert.equal(failed500.histogram!.totalCount, 2);
  // the next delta is empty: nothing is counted twice
  assert.deepEqual(worker.takeDelta().endpoints, []);
});

Deno.test("the window holds the last intervals only", () => {
  let now = 0;
  const aggregator = new StatsAggregator({ windowMs: 3000, now: () => now });
  const worker = new RequestStats();
  for (let second = 0; second < 6; second++) {
    for (let i = 0; i <= second; i++) worker.record("GET", "/", 200, 1000 * (second + 1), 0, null);
    aggregator.add(worker.takeDelta());
    now += 1000;
    aggregator.closeInterval();
  }
  // intervals hold 1..6 requests; the window keeps the last three: 4 + 5 + 6
  const window = aggregator.window();
  assert.equal(window.total.requests, 15);
  assert.equal(window.durationMs, 3000);
  assert.equal(window.total.rps, 5);
  assert.equal(window.total.minMs, 4);
  assert.equal(aggregator.cumulative(6000).total.requests, 21);
});

Deno.test("percentiles never pass the exact max or min", () => {
  const worker = new RequestStats();
  worker.record("GET", "/", 200, 60_101, 0, null); // HDR's bucket for 60 101 µs tops out above it
  const aggregator = new StatsAggregator({ percentiles: [50, 99.9] });
  aggregator.add(worker.takeDelta());
  aggregator.closeInterval();
  const { total } = aggregator.cumulative(1000);
  assert.equal(total.maxMs, 60.101);
  assert.equal(total.percentilesMs["99.9"], 60.101);
  assert.equal(total.percentilesMs["50"], 60.101);
  assert.equal(aggregator.cumulative(1000).endpoints[0].percentilesMs["50"], 60.101);
});

Deno.test("the window's percentiles are those of the intervals still in it (added, then subtracted)", () => {
  let now = 0;
  const aggregator = new StatsAggregator({ windowMs: 3000, now: () => now, percentiles: [50, 99] });
  const worker = new RequestStats();
  const inWindow = createHistogram();
  for (let second = 0; second < 8; second++) {
    for (let i = 0; i < 200; i++) {
      const us = (second + 1) * 1000 + i * 37; // each interval in a range of its own
      worker.record("GET", "/", 200, us, 0, null);
      if (second >= 5) recordLatencyUs(inWindow, us);
    }
    aggregator.add(worker.takeDelta());
    now += 1000;
    aggregator.closeInterval();
  }
  const window = aggregator.window();
  assert.equal(window.total.requests, 600);
  for (const p of [50, 99]) {
    assert.equal(window.total.percentilesMs[String(p)], percentileMs(inWindow, p), `p${p}`);
    assert.equal(window.endpoints[0].percentilesMs[String(p)], percentileMs(inWindow, p));
  }
});

Deno.test("names past the limit share one (other) row per method; every request is still counted", () => {
  const aggregator = new StatsAggregator({ maxNames: 3 });
  const worker = new RequestStats();
  for (let n = 0; n < 10; n++) worker.record("GET", `/item/${n}`, 200, 1000 + n, 1, null);
  worker.record("POST", "/cart", 201, 500, 0, null);
  aggregator.add(worker.takeDelta());
  const cells = aggregator.closeInterval();
  const view = aggregator.cumulative(1000);
  assert.deepEqual(view.endpoints.map((e) => [e.method, e.name, e.requests]), [
    ["GET", "(other)", 7],
    ["POST", "/cart", 1],
    ["GET", "/item/0", 1],
    ["GET", "/item/1", 1],
    ["GET", "/item/2", 1],
  ]);
  assert.equal(view.total.requests, 11);
  assert.equal(cells.find((c) => c.name === "(other)")!.requests, 7);
});

Deno.test("failure texts past the limit per endpoint are counted under one text", () => {
  const aggregator = new StatsAggregator({});
  const worker = new RequestStats();
  for (let n = 0; n < 150; n++) worker.record("GET", "/a", 500, 1000, 0, `HTTP 500 #${n}`);
  aggregator.add(worker.takeDelta());
  aggregator.closeInterval();
  const failures = aggregator.failures();
  assert.equal(failures.length, 101);
  assert.equal(failures.reduce((n, f) => n + f.occurrences, 0), 150);
  assert.equal(failures[0].error, "(other failure texts)");
  assert.equal(failures[0].occurrences, 50);
});
