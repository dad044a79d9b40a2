import assert from "node:assert/strict";
import { UsageError } from "./errors.ts";
import {
  parseThresholdExpression,
  parseThresholdFlag,
  parseThresholdMetric,
  parseThresholds,
} from "./threshold_syntax.ts";

Deno.test("k6's threshold expressions parse, with filters and baselines", () => {
  assert.deepEqual(parseThresholdMetric("http.duration{name:/cart, method:POST}"), {
    metric: "http.duration",
    filter: { name: "/cart", method: "POST" },
  });
  assert.deepEqual(parseThresholdExpression("http.duration", "p(99.9) < 1000"), {
    aggregation: "p",
    percentile: 99.9,
    operator: "<",
    value: 1000,
    baseline: false,
  });
  assert.deepEqual(parseThresholdExpression("http.failures", "rate<0.01").aggregation, "rate");
  assert.deepEqual(parseThresholdExpression("http.reqs", "count>=1000").operator, ">=");
  assert.deepEqual(parseThresholdExpression("http.duration", "p(95) < baseline * 1.10"), {
    aggregation: "p",
    percentile: 95,
    operator: "<",
    value: 1.1,
    baseline: true,
  });
  assert.equal(parseThresholdExpression("http.duration", "avg<=baseline").value, 1);
  assert.deepEqual(parseThresholdFlag("http.duration{name:/a:b}: p(95)<200"), [
    "http.duration{name:/a:b}",
    "p(95)<200",
  ]);
  const [t] = parseThresholds(
    { "http.failures": [{ threshold: "rate<0.5", abortOnFail: true, delayAbortEval: "2s" }] },
    (d) => d === "2s" ? 2000 : NaN,
  );
  assert.equal(t.abortOnFail, true);
  assert.equal(t.delayAbortEvalMs, 2000);
});

Deno.test("a bad threshold names what is wrong and what would be right", () => {
  const bad: [() => unknown, RegExp][] = [
    [() => parseThresholdMetric("http.latency"), /use one of http\.duration, http\.failures/],
    [() => parseThresholdMetric("http.reqs{kind:x}"), /filter http\.reqs by name, method, status/],
    [() => parseThresholdMetric("checks{name:/a}"), /filter checks by check as \{tag:value\}/],
    [() => parseThresholdExpression("checks", "p(95)<1"), /expected rate.*e\.g\. rate>0\.99/],
    [
      () => parseThresholdExpression("http.duration", "rate<1"),
      /expected avg, min, max, med, p\(N\)/,
    ],
    [() => parseThresholdExpression("http.duration", "p(95)<"), /e\.g\. p\(95\)<200/],
    [() => parseThresholdExpression("http.duration", "p(101)<5"), /0 <= N <= 100/],
    [() => parseThresholdFlag("p(95)<200"), /'metric: expression'/],
  ];
  for (const [parse, message] of bad) {
    assert.throws(parse, (e: unknown) => e instanceof UsageError && message.test(e.message));
  }
});

Deno.test("checks thresholds: the pass rate, all checks or one by name (commas and all)", () => {
  assert.deepEqual(parseThresholdMetric("checks"), { metric: "checks", filter: {} });
  assert.deepEqual(parseThresholdMetric("checks{check:status is 200, or 204}"), {
    metric: "checks",
    filter: { check: "status is 200, or 204" },
  });
  assert.deepEqual(parseThresholdExpression("checks", "rate>0.99"), {
    aggregation: "rate",
    operator: ">",
    value: 0.99,
    baseline: false,
  });
});
