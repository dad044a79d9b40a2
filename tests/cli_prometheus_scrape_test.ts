// A real Prometheus (the Debian binary) scrapes a real Stampede run every second; what it stored
// must be what the target server saw and what the summary says.
import assert from "node:assert/strict";
import { readSummary, runCli, tempDir } from "./helpers.ts";
import {
  freePort,
  promtoolCheckMetrics,
  sampleNames,
  scrapeUntil,
  servedCount,
  SHOP_PLAN,
  startPrometheus,
  startShopServer,
} from "./prometheus_helpers.ts";

/** Buckets fine enough for the 0–60 ms of `/slow` to land in several of them. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.25, 1];

/** The width of the bucket that holds `seconds`. */
function bucketWidth(seconds: number): number {
  const i = BUCKETS.findIndex((bound) => seconds <= bound);
  if (i < 0) return Infinity;
  return BUCKETS[i] - (i === 0 ? 0 : BUCKETS[i - 1]);
}

/** Families whose names the community dashboards fix, and the promtool lints they trip. */
const LOCUST_NAME_LINTS = [
  'locust_user_count non-histogram and non-summary metrics should not have "_count" suffix',
  'locust_workers_count non-histogram and non-summary metrics should not have "_count" suffix',
  'locust_workers_running_count non-histogram and non-summary metrics should not have "_count" suffix',
  "locust_requests_current_fail_per_sec metric names should not contain abbreviated units",
  "locust_total_fail_per_sec metric names should not contain abbreviated units",
];

/**
 * Queries of Grafana dashboards 11985 (ContainerSolutions exporter) and 20462 (vokash3
 * exporter), as ../shared/reference/locust-telemetry.md lists them.
 */
const LOCUST_DASHBOARD_QUERIES = [
  "locust_running",
  "locust_users",
  "sum(locust_requests_current_rps)",
  'locust_requests_num_requests{method=~""}',
  "locust_requests_fail_ratio",
  "locust_workers_count",
  'locust_requests_num_failures{method=~""}',
  ...[
    "avg_content_length",
    "min_response_time",
    "max_response_time",
    "avg_response_time",
    "median_response_time",
    "num_failures",
    "current_fail_per_sec",
    "num_requests",
    "current_rps",
  ].map((f) => `sum(locust_requests_${f}{method=~".+"}) by (method, name)`),
  "locust_requests_current_response_time_percentile_95",
  "locust_requests_current_response_time_percentile_50",
  'rate(locust_requests_num_requests{method=~".+"}[1m])',
  "locust_state",
  "locust_user_count",
  "locust_total_rps",
  'sum(locust_requests_num_requests{method=~".+"})',
  "locust_fail_ratio",
  "locust_workers",
  'sum(locust_requests_response_time_percentile_95{method=~".+"}) by (method, name)',
  'sum(locust_requests_response_time_percentile_99{method=~".+"}) by (method, name)',
  "locust_total_avg_response_time",
];

/** The exposition without the `locust_*` families. */
function withoutLocust(text: string): string {
  return text.split("\n").filter((line) => !/^(# (HELP|TYPE) )?locust_/.test(line)).join("\n");
}

Deno.test("a real Prometheus scraping a run stores the server's counts, the summary's counts and p95", async (t) => {
  const server = startShopServer();
  const dir = await tempDir();
  const metricsPort = freePort();
  const prometheus = await startPrometheus(`127.0.0.1:${metricsPort}`, 1);
  try {
    const summaryPath = `${dir.path}/summary.json`;
    const cli = runCli([
      SHOP_PLAN,
      "--host",
      server.url,
      "--exit-code-on-error",
      "0",
      "--run-time",
      "4s",
      "--stop-timeout",
      "2s",
      "--workers",
      "2",
      "--recorder",
      "prometheus",
      "--prometheus-listen",
      `127.0.0.1:${metricsPort}`,
      "--prometheus-buckets",
      BUCKETS.join(","),
      "--prometheus-compat",
      "locust",
      "--tag",
      "suite=prometheus",
      "--summary",
      summaryPath,
    ]);
    const final = await scrapeUntil(`http://127.0.0.1:${metricsPort}/metrics`, cli);
    const result = await cli;
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(`serving http://127\\.0\\.0\\.1:${metricsPort}/metrics`),
    );
    assert.ok(final, "the final numbers were never served (no scrape saw the run stopped)");
    const summary = await readSummary(summaryPath);
    const run = `run_id="${summary.run_id}"`;
    // Range selectors skip the staleness markers written once the endpoint has closed.
    const last = (selector: string) => `last_over_time(${selector}[5m])`;
    const byEndpoint = async (expr: string) => {
      const map = new Map<string, number>();
      for (const s of await prometheus.query(expr)) {
        map.set(`${s.metric.method} ${s.metric.name}`, s.value);
      }
      return map;
    };

    await t.step("Prometheus scraped the final numbers during the linger", async () => {
      const stopped = await prometheus.query(last(`stampede_state{${run},state="stopped"}`));
      assert.equal(stopped.length, 1);
      assert.equal(stopped[0].value, 1);
      const info = await prometheus.query(last(`stampede_run_info{${run}}`));
      assert.equal(info[0]?.metric.testplan, "prometheus_shop");
      assert.equal(info[0]?.metric.suite, "prometheus");
    });

    await t.step(
      "requests per endpoint: Prometheus = server = summary, and so is _count",
      async () => {
        const requests = await byEndpoint(
          `sum by (method, name) (${last(`stampede_requests_total{${run}}`)})`,
        );
        const counts = await byEndpoint(
          `sum by (method, name) (${last(`stampede_request_duration_seconds_count{${run}}`)})`,
        );
        const failures = await byEndpoint(
          `sum by (method, name) (${last(`stampede_request_failures_total{${run}}`)})`,
        );
        assert.equal(summary.endpoints.length, 5);
        for (const e of summary.endpoints) {
          const key = `${e.method} ${e.name}`;
          assert.ok(e.requests > 20, `only ${e.requests} requests for ${key}`);
          assert.equal(
            servedCount(server, e.method, e.name),
            e.requests,
            `server vs summary, ${key}`,
          );
          assert.equal(requests.get(key), e.requests, `Prometheus vs summary, ${key}`);
          assert.equal(counts.get(key), e.requests, `histogram _count vs summary, ${key}`);
          assert.equal(failures.get(key), e.failures, `failures, ${key}`);
        }
        const total = await prometheus.query(`sum(${last(`stampede_requests_total{${run}}`)})`);
        assert.equal(total[0].value, server.total());
        assert.equal(total[0].value, summary.totals.requests);
        assert.ok(summary.totals.failures > 0, "the target's 503s are failures");
      },
    );

    await t.step(
      "histogram_quantile(0.95) lands within a bucket width of the summary's p95",
      async () => {
        for (const e of summary.endpoints) {
          const p95 = e.percentiles_ms["95"] / 1000;
          const [q] = await prometheus.query(
            `histogram_quantile(0.95, sum by (le) (${
              last(
                `stampede_request_duration_seconds_bucket{${run},method="${e.method}",name="${e.name}"}`,
              )
            }))`,
          );
          const width = bucketWidth(p95);
          assert.ok(
            Math.abs(q.value - p95) <= width,
            `${e.method} ${e.name}: histogram_quantile ${q.value} s vs summary p95 ${p95} s (bucket width ${width} s)`,
          );
        }
        const slow = summary.endpoints.find((e) => e.name === "/slow")!;
        assert.ok(slow.percentiles_ms["95"] > 20, "the /slow p95 is spread over several buckets");
      },
    );

    await t.step(
      "users, workers and the system metrics of each load process reached Prometheus",
      async () => {
        const users = await prometheus.query(
          `max by (kind) (max_over_time(stampede_users{${run}}[5m]))`,
        );
        assert.deepEqual(
          Object.fromEntries(users.map((s) => [s.metric.kind, s.value])),
          { shopper: 4, buyer: 2, restocker: 1 },
        );
        const workers = await prometheus.query(`max_over_time(stampede_workers{${run}}[5m])`);
        assert.equal(workers[0].value, 2);
        const sources = async (name: string) =>
          (await prometheus.query(last(`${name}{${run}}`))).map((s) => s.metric.source).sort();
        const all = ["coordinator", "worker-1", "worker-2"];
        assert.deepEqual(await sources("stampede_cpu_usage_ratio"), all);
        assert.deepEqual(await sources("stampede_process_heap_used_bytes"), all);
        assert.deepEqual(await sources("stampede_event_loop_lag_p99_seconds"), all);
        assert.deepEqual(await sources("stampede_cpu_wait_ratio"), all);
        assert.deepEqual(await sources("stampede_process_resident_memory_bytes"), ["coordinator"]);
        assert.deepEqual(await sources("stampede_process_cpu_usage_ratio"), ["coordinator"]);
        assert.deepEqual(await sources("stampede_network_sent_bytes_total"), ["coordinator"]);
        const events = await prometheus.query(
          last(`stampede_lifecycle_events_total{${run},event="test_stop",source="coordinator"}`),
        );
        assert.equal(events[0].value, 1);
      },
    );

    await t.step(
      "the queries of the community Locust dashboards 11985 and 20462 find data",
      async () => {
        const atS = final!.atMs / 1000;
        for (const expr of LOCUST_DASHBOARD_QUERIES) {
          const answer = await prometheus.query(expr, atS);
          assert.ok(answer.length > 0, `no data for ${expr}`);
        }
        const [total] = await prometheus.query('locust_requests_num_requests{method=~""}', atS);
        assert.equal(total.value, summary.totals.requests);
        const errors = await prometheus.query("sum(locust_errors) by (method, name, error)", atS);
        assert.deepEqual(
          errors.map((e) => `${e.metric.method} ${e.metric.name} ${e.metric.error}: ${e.value}`)
            .sort(),
          summary.failures.map((f) => `${f.method} ${f.name} ${f.error}: ${f.occurrences}`).sort(),
        );
      },
    );

    await t.step("promtool check metrics passes on the exposition", async () => {
      const names = sampleNames(final!.text);
      assert.ok(names.has("stampede_requests_total") && names.has("locust_users"));
      const check = await promtoolCheckMetrics(withoutLocust(final!.text));
      assert.equal(check.code, 0, check.output);
      assert.equal(check.output.trim(), "");
      // The locust_* names are the community dashboards' and cannot change; nothing else trips.
      const compat = await promtoolCheckMetrics(final!.text);
      const lints = new Set(compat.output.trim().split("\n"));
      assert.deepEqual([...lints].sort(), [...LOCUST_NAME_LINTS].sort());
    });
  } finally {
    await prometheus.stop();
    await server.shutdown();
    await dir.remove();
  }
});
