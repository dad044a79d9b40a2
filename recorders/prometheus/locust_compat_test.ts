import assert from "node:assert/strict";
import { PrometheusMetrics } from "./metrics.ts";
import { cell, interval, run, samples, stats, view } from "./snapshot_fixtures.ts";

Deno.test("locust compat serves the ContainerSolutions names with the Aggregated row", () => {
  const metrics = new PrometheusMetrics({ run, percentiles: [50, 95, 99], compat: "locust" });
  const window = view(
    [stats("GET", "/products", { "50": 12, "95": 80, "99": 99 })],
    stats("", "Aggregated", { "50": 10, "95": 90, "99": 100 }),
  );
  metrics.interval(interval([cell("GET", "/products", 200, [1000])], window));
  metrics.event({
    name: "spawning_complete",
    at: "",
    source: "coordinator",
    data: { users: 0, users_by_kind: {} },
  });
  const s = samples(metrics.render());
  assert.equal(s.get("locust_running"), 2);
  assert.equal(s.get("locust_users"), 4);
  assert.equal(s.get("locust_workers_count"), 2);
  assert.equal(s.get('locust_requests_num_requests{method="GET",name="/products"}'), 10);
  assert.equal(s.get('locust_requests_num_requests{method="",name="Aggregated"}'), 10);
  assert.equal(s.get('locust_requests_median_response_time{method="GET",name="/products"}'), 12);
  assert.equal(s.get("locust_requests_current_response_time_percentile_95"), 90);
  assert.equal(s.get("locust_requests_fail_ratio"), 0.1);
  // failures by error text are served during the run, from the interval snapshot
  metrics.interval({
    ...interval([], window),
    failures: [{ method: "GET", name: "/products", error: "HTTP 503", occurrences: 3 }],
  });
  assert.equal(
    samples(metrics.render()).get('locust_errors{method="GET",name="/products",error="HTTP 503"}'),
    3,
  );
  const plain = samples(new PrometheusMetrics({ run, percentiles: [50] }).render());
  assert.equal([...plain.keys()].some((k) => k.startsWith("locust_")), false);
});
