import assert from "node:assert/strict";
import { parseThresholds } from "../threshold_syntax.ts";
import { StatsAggregator } from "./aggregator.ts";
import { createHistogram, encodeHistogram, percentileMs, recordLatencyUs } from "./histogram.ts";
import { RequestStats } from "./request_stats.ts";
import { ThresholdEvaluator } from "./thresholds.ts";

const ms = (d: string | number) => typeof d === "number" ? d : Number.parseFloat(d) * 1000;

/** Three workers' requests, merged as the coordinator merges them, fed to `thresholds`. */
function evaluate(thresholds: Record<string, string[]>, elapsedMs = 2000) {
  const evaluator = new ThresholdEvaluator(parseThresholds(thresholds, ms));
  const aggregator = new StatsAggregator({});
  const workers = [new RequestStats(), new RequestStats(), new RequestStats()];
  const single = createHistogram();
  for (let i = 0; i < 3000; i++) {
    const us = 1000 + ((i * 7919) % 300_000);
    workers[i % 3].record(
      "GET",
      i % 10 === 0 ? "/cart" : "/a",
      i % 50 === 0 ? 500 : 200,
      us,
      0,
      i % 50 === 0 ? "HTTP 500" : null,
    );
    recordLatencyUs(single, us);
  }
  for (const w of workers) aggregator.add(w.takeDelta());
  evaluator.observe(aggregator.closeInterval());
  return { results: evaluator.evaluate(elapsedMs), single };
}

Deno.test("p(99.9) on merged histograms equals one histogram of the same latencies", () => {
  const { results, single } = evaluate({ "http.duration": ["p(99.9)<1000000", "p(50)<1"] });
  assert.equal(results[0].value, percentileMs(single, 99.9));
  assert.equal(results[0].ok, true);
  assert.equal(results[1].value, percentileMs(single, 50));
  assert.equal(results[1].ok, false);
});

Deno.test("rates, counts and filters see what they should", () => {
  const { results } = evaluate({
    "http.failures": ["rate<0.01", "count==60"],
    "http.reqs": ["count>=3000", "rate>1400"],
    "http.reqs{name:/cart}": ["count==300"],
    "http.reqs{status:500}": ["count==60"],
    "http.duration{name:/nope}": ["max<1000"],
  });
  assert.deepEqual(results.map((r) => [r.expression, r.value, r.ok]), [
    ["rate<0.01", 0.02, false],
    ["count==60", 60, true],
    ["count>=3000", 3000, true],
    ["rate>1400", 1500, true],
    ["count==300", 300, true],
    ["count==60", 60, true],
    ["max<1000", null, false], // nothing matched: the threshold cannot pass
  ]);
});

Deno.test("a baseline threshold compares with the baseline run's own value", () => {
  const base = createHistogram();
  for (let i = 1; i <= 100; i++) recordLatencyUs(base, i * 1000);
  const baseline = {
    duration_s: 10,
    totals: {
      requests: 100,
      failures: 0,
      rps: 10,
      min_ms: 1,
      max_ms: 100,
      mean_ms: 50.5,
      percentiles_ms: {},
      hdr_histogram_us: encodeHistogram(base),
    },
    endpoints: [],
  };
  const thresholds = parseThresholds({ "http.duration": ["p(95) < baseline * 1.10"] }, ms);
  const evaluator = new ThresholdEvaluator(thresholds, baseline);
  const worker = new RequestStats();
  for (let i = 1; i <= 100; i++) {
    worker.record("GET", "/", 200, Math.round(i * 1000 * 1.2), 0, null);
  }
  const aggregator = new StatsAggregator({});
  aggregator.add(worker.takeDelta());
  evaluator.observe(aggregator.closeInterval());
  const [result] = evaluator.evaluate(1000);
  assert.ok(Math.abs(result.limit - 95.0 * 1.1) < 0.2, String(result.limit));
  assert.equal(result.ok, false, "20 % slower fails a 10 % allowance");
});

Deno.test("checks: the pass rate of every named check, or of one; none evaluated fails", () => {
  const evaluator = new ThresholdEvaluator(
    parseThresholds({
      "checks": ["rate>0.9"],
      "checks{check:status is 200}": ["rate>=0.9"],
      "checks{check:typo}": ["rate>0"],
    }, ms),
  );
  const checks = [
    { name: "status is 200", passes: 9, fails: 1 },
    { name: "has items", passes: 1, fails: 9 },
  ];
  const [all, one, typo] = evaluator.evaluate(1000, { checks });
  assert.equal(all.value, 0.5);
  assert.equal(all.ok, false);
  assert.equal(one.value, 0.9);
  assert.equal(one.ok, true);
  assert.equal(typo.value, null);
  assert.equal(typo.ok, false);
  // The same rate in a baseline run's summary.
  const base = { duration_s: 1, totals: {} as never, endpoints: [], checks };
  const vsBase = new ThresholdEvaluator(
    parseThresholds({ "checks": ["rate >= baseline * 1"] }, ms),
    base,
  );
  assert.equal(vsBase.evaluate(1000, { checks })[0].ok, true);
});

Deno.test("iterations.dropped and http.duration.corrected: counts and exact corrected latencies", () => {
  const evaluator = new ThresholdEvaluator(
    parseThresholds({
      "iterations.dropped": ["count==0", "rate<0.1"],
      "iterations.dropped{kind:api}": ["count<5"],
      "http.duration.corrected": ["p(99)<500", "max<2000"],
    }, ms),
  );
  const corrected = createHistogram();
  for (let i = 1; i <= 100; i++) recordLatencyUs(corrected, i * 10_000); // 10 ms … 1 s
  evaluator.observe([{
    method: "GET",
    name: "/",
    status: 200,
    failed: false,
    requests: 100,
    bytes: 0,
    histogram: null,
    sumUs: 0,
    minUs: 0,
    maxUs: 0,
    correctedHistogram: corrected,
    correctedMaxUs: 1_000_000,
  }]);
  const iterations = [{ kind: "api", started: 95, dropped: 5 }, {
    kind: "web",
    started: 10,
    dropped: 0,
  }];
  const [none, rate, api, p99, max] = evaluator.evaluate(1000, { iterations });
  assert.deepEqual([none.value, none.ok], [5, false]);
  assert.deepEqual([rate.value, rate.ok], [5 / 110, true]);
  assert.deepEqual([api.value, api.ok], [5, false]);
  assert.ok(Math.abs(p99.value! - 990) < 1, `${p99.value}`);
  assert.equal(p99.ok, false);
  assert.deepEqual([max.value, max.ok], [1000, true]);
});
