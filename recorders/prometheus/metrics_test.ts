import assert from "node:assert/strict";
import { OTHER_NAME, PrometheusMetrics, quantileLabel } from "./metrics.ts";
import { cell, final, interval, run, samples, stats, view } from "./snapshot_fixtures.ts";

Deno.test("counters and histogram buckets add up every interval's cells and the final's", () => {
  const metrics = new PrometheusMetrics({
    run,
    percentiles: [50, 95],
    bucketsSeconds: [0.001, 0.005, 0.1],
  });
  metrics.interval(interval([
    cell("GET", "/products", 200, [500, 900, 1000, 4000]),
    cell("POST", "/cart", 503, [2000]),
  ]));
  metrics.interval(interval([cell("GET", "/products", 200, [200_000, 50])]));
  metrics.final(final([cell("POST", "/cart", 201, [3000, 6000])]));
  const s = samples(metrics.render());

  assert.equal(s.get('stampede_requests_total{method="GET",name="/products",status="200"}'), 6);
  assert.equal(s.get('stampede_requests_total{method="POST",name="/cart",status="503"}'), 1);
  assert.equal(s.get('stampede_requests_total{method="POST",name="/cart",status="201"}'), 2);
  assert.equal(
    s.get('stampede_request_failures_total{method="POST",name="/cart",status="503"}'),
    1,
  );
  assert.equal(
    s.get('stampede_request_failures_total{method="POST",name="/cart",status="201"}'),
    0,
  );
  assert.equal(s.get('stampede_received_bytes_total{method="GET",name="/products"}'), 60);

  const bucket = (le: string) =>
    s.get(`stampede_request_duration_seconds_bucket{method="GET",name="/products",le="${le}"}`);
  // 50, 500, 900 and 1000 µs are <= 1 ms (a value equal to a bound is in it); 4000 <= 5 ms;
  // 200 ms is above every bound.
  assert.equal(bucket("0.001"), 4);
  assert.equal(bucket("0.005"), 5);
  assert.equal(bucket("0.1"), 5);
  assert.equal(bucket("+Inf"), 6);
  assert.equal(s.get('stampede_request_duration_seconds_count{method="GET",name="/products"}'), 6);
  assert.equal(
    s.get('stampede_request_duration_seconds_sum{method="GET",name="/products"}'),
    (500 + 900 + 1000 + 4000 + 200_000 + 50) / 1e6,
  );
  assert.equal(s.get('stampede_request_duration_seconds_count{method="POST",name="/cart"}'), 3);
});

Deno.test("a cell without latencies counts requests but not durations", () => {
  const metrics = new PrometheusMetrics({ run, percentiles: [50] });
  metrics.interval(interval([cell("TASK", "checkout", 0, [], true)]));
  const exception = { ...cell("TASK", "checkout", 0, [], true), requests: 2 };
  metrics.interval(interval([exception]));
  const s = samples(metrics.render());
  assert.equal(s.get('stampede_requests_total{method="TASK",name="checkout",status="0"}'), 2);
  assert.equal(
    s.get('stampede_request_failures_total{method="TASK",name="checkout",status="0"}'),
    2,
  );
  assert.equal(s.get('stampede_request_duration_seconds_count{method="TASK",name="checkout"}'), 0);
});

Deno.test("window percentiles are a summary in seconds; the total row is name Aggregated", () => {
  const metrics = new PrometheusMetrics({ run, percentiles: [50, 95, 99.9] });
  const window = view(
    [stats("GET", "/products", { "50": 12.5, "95": 80, "99.9": 120 })],
    stats("", "Aggregated", { "50": 10, "95": 90, "99.9": 130 }),
  );
  metrics.interval(interval([cell("GET", "/products", 200, [1000, 3000])], window));
  const s = samples(metrics.render());
  const family = "stampede_window_request_duration_seconds";
  assert.equal(s.get(`${family}{method="GET",name="/products",quantile="0.5"}`), 0.0125);
  assert.equal(s.get(`${family}{method="GET",name="/products",quantile="0.95"}`), 0.08);
  assert.equal(s.get(`${family}{method="GET",name="/products",quantile="0.999"}`), 0.12);
  assert.equal(s.get(`${family}{method="",name="Aggregated",quantile="0.95"}`), 0.09);
  assert.equal(s.get(`${family}_count{method="GET",name="/products"}`), 2);
  assert.equal(s.get(`${family}_sum{method="",name="Aggregated"}`), 0.004);
  assert.equal(quantileLabel(99.9), "0.999");
  assert.equal(quantileLabel(50), "0.5");
});

Deno.test("past the limit of distinct names, new names become (other) and one warning is given", () => {
  const warnings: string[] = [];
  const metrics = new PrometheusMetrics({
    run,
    percentiles: [50],
    maxNames: 2,
    warn: (m) => warnings.push(m),
  });
  metrics.interval(interval([
    cell("GET", "/a", 200, [100]),
    cell("GET", "/b", 200, [100]),
    cell("GET", "/c?id=1", 200, [100]),
    cell("GET", "/c?id=2", 200, [100, 100]),
  ]));
  metrics.interval(interval([cell("GET", "/a", 200, [100]), cell("GET", "/d", 200, [100])]));
  const s = samples(metrics.render());
  assert.equal(s.get('stampede_requests_total{method="GET",name="/a",status="200"}'), 2);
  assert.equal(s.get(`stampede_requests_total{method="GET",name="${OTHER_NAME}",status="200"}`), 4);
  assert.equal([...s.keys()].some((k) => k.includes("/c?id")), false);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /more than 2 distinct request names/);
});

Deno.test("run info carries host, version and tags as labels; state, users and workers follow the run", () => {
  const metrics = new PrometheusMetrics({ run, percentiles: [50] });
  let s = samples(metrics.render());
  const info = [...s.keys()].find((k) => k.startsWith("stampede_run_info"));
  assert.equal(
    info,
    `stampede_run_info{host="http://127.0.0.1:8000",version="${run.version}",env="ci",build_id="42",tag_host="clash"}`,
  );
  assert.equal(s.get('stampede_state{state="spawning"}'), 1);
  assert.equal(
    s.get('stampede_lifecycle_events_total{event="test_start",source="coordinator"}'),
    0,
  );

  const at = new Date().toISOString();
  metrics.event({
    name: "test_start",
    at,
    source: "coordinator",
    data: { started_at: "", users: 0, spawn_rate: null, run_time_ms: null, workers: 1, host: "" },
  });
  metrics.event({ name: "worker_started", at, source: "worker-1", data: {} });
  metrics.event({
    name: "spawning_complete",
    at,
    source: "coordinator",
    data: { users: 0, users_by_kind: {} },
  });
  metrics.interval(interval([]));
  s = samples(metrics.render());
  assert.equal(s.get('stampede_state{state="running"}'), 1);
  assert.equal(s.get('stampede_state{state="spawning"}'), 0);
  assert.equal(s.get('stampede_users{kind="shopper"}'), 3);
  assert.equal(s.get('stampede_users{kind="bot"}'), 1);
  assert.equal(s.get("stampede_workers"), 2);
  assert.equal(
    s.get('stampede_lifecycle_events_total{event="test_start",source="coordinator"}'),
    1,
  );
  assert.equal(
    s.get('stampede_lifecycle_events_total{event="worker_started",source="worker-1"}'),
    1,
  );

  metrics.final(final([]));
  metrics.event({
    name: "test_stop",
    at,
    source: "coordinator",
    data: { reason: "completed", ended_at: "", duration_ms: 0 },
  });
  s = samples(metrics.render());
  assert.equal(s.get('stampede_state{state="stopped"}'), 1);
  assert.equal(s.get('stampede_state{state="running"}'), 0);
  assert.equal(s.get('stampede_users{kind="shopper"}'), 0);
  assert.equal(s.get("stampede_workers"), 0);
});

Deno.test("system samples: gauges in base units per source, network deltas summed, absent fields left out", () => {
  const metrics = new PrometheusMetrics({ run, percentiles: [50] });
  const at = new Date().toISOString();
  metrics.samples([
    {
      at,
      source: "coordinator",
      cpuPercent: 150,
      cpuWaitPercent: 25,
      processCpuPercent: 180,
      rssBytes: 1000,
      heapUsedBytes: 500,
      networkSentBytes: 100,
      networkReceivedBytes: 40,
      eventLoopLagP99Ms: 12,
    },
    { at, source: "worker-1", cpuPercent: 20, heapUsedBytes: 300 },
  ]);
  metrics.samples([{ at, source: "coordinator", networkSentBytes: 50, networkReceivedBytes: 2 }]);
  const s = samples(metrics.render());
  assert.equal(s.get('stampede_cpu_usage_ratio{source="coordinator"}'), 1.5);
  assert.equal(s.get('stampede_cpu_usage_ratio{source="worker-1"}'), 0.2);
  assert.equal(s.get('stampede_cpu_wait_ratio{source="coordinator"}'), 0.25);
  assert.equal(s.get('stampede_process_cpu_usage_ratio{source="coordinator"}'), 1.8);
  assert.equal(s.has('stampede_process_cpu_usage_ratio{source="worker-1"}'), false);
  assert.equal(s.get('stampede_process_resident_memory_bytes{source="coordinator"}'), 1000);
  assert.equal(s.has('stampede_process_resident_memory_bytes{source="worker-1"}'), false);
  assert.equal(s.get('stampede_process_heap_used_bytes{source="worker-1"}'), 300);
  assert.equal(s.get('stampede_event_loop_lag_p99_seconds{source="coordinator"}'), 0.012);
  assert.equal(s.has('stampede_event_loop_lag_p99_seconds{source="worker-1"}'), false);
  assert.equal(s.get('stampede_network_sent_bytes_total{source="coordinator"}'), 150);
  assert.equal(s.get('stampede_network_received_bytes_total{source="coordinator"}'), 42);
  assert.equal(s.has('stampede_network_sent_bytes_total{source="worker-1"}'), false);
});

Deno.test("named checks: a counter per check and result, the run's counts so far", () => {
  const metrics = new PrometheusMetrics({ run, percentiles: [50] });
  assert.doesNotMatch(metrics.render(), /stampede_checks_total/, "no checks, no family");
  metrics.interval({ ...interval([]), checks: [{ name: "status is 200", passes: 3, fails: 1 }] });
  metrics.final({ ...final([]), checks: [{ name: "status is 200", passes: 7, fails: 2 }] });
  const text = metrics.render();
  assert.match(text, /# TYPE stampede_checks_total counter/);
  const s = samples(text);
  assert.equal(s.get('stampede_checks_total{check="status is 200",result="pass"}'), 7);
  assert.equal(s.get('stampede_checks_total{check="status is 200",result="fail"}'), 2);
});

Deno.test("iterations, dropped iterations and target rates by kind; corrected durations as a histogram", () => {
  const metrics = new PrometheusMetrics({ run, percentiles: [50], bucketsSeconds: [0.01, 1] });
  const corrected = cell("GET", "/", 200, [5_000, 500_000, 2_000_000]).histogram!;
  metrics.interval({
    ...interval([{
      ...cell("GET", "/", 200, [1_000, 2_000, 3_000]),
      correctedHistogram: corrected,
    }]),
    iterations: [{ kind: "api", started: 3, dropped: 2 }],
    targetRates: { api: 200 },
  });
  const s = samples(metrics.render());
  assert.equal(s.get('stampede_iterations_total{kind="api"}'), 3);
  assert.equal(s.get('stampede_dropped_iterations_total{kind="api"}'), 2);
  assert.equal(s.get('stampede_target_arrival_rate{kind="api"}'), 200);
  const family = "stampede_request_corrected_duration_seconds";
  assert.equal(s.get(`${family}_bucket{method="GET",name="/",le="0.01"}`), 1);
  assert.equal(s.get(`${family}_bucket{method="GET",name="/",le="1"}`), 2);
  assert.equal(s.get(`${family}_count{method="GET",name="/"}`), 3);
});
