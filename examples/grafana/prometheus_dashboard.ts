// The Prometheus dashboard: the `stampede_*` families of `--recorder prometheus`, by section.
import {
  dashboard,
  datasourceVariable,
  type Json,
  layout,
  type PanelSpec,
  PROMETHEUS,
  queryVariable,
  stat,
} from "./panels.ts";
import {
  lifecycleEventsPanel,
  loadGeneratorPanels,
  loadModelPanels,
} from "./prometheus_load_panels.ts";
import { perEndpoint, rate, REQ, RUN, window } from "./prometheus_queries.ts";

/** The row of stats on top: rate, failure ratio, p95, users, workers, requests. */
function overviewPanels(): PanelSpec[] {
  return [
    stat("Requests/s", `sum(rate(stampede_requests_total{${RUN}}[$__rate_interval]))`, "reqps"),
    stat(
      "Failures",
      `sum(rate(stampede_request_failures_total{${RUN}}[$__rate_interval])) / sum(rate(stampede_requests_total{${RUN}}[$__rate_interval]))`,
      "percentunit",
      "Failed requests / requests, over the rate interval",
    ),
    stat(
      "p95, last 10 s",
      `max(stampede_window_request_duration_seconds{${RUN}, name="Aggregated", quantile="0.95"})`,
      "s",
      "Exact (HDR) p95 of every request of the last 10 s",
    ),
    stat("Users", `sum(stampede_users{${RUN}})`),
    stat("Load workers", `sum(stampede_workers{${RUN}})`),
    stat(
      "Requests",
      `sum(last_over_time(stampede_requests_total{${RUN}}[$__range]))`,
      "short",
      "Requests completed, failures included",
    ),
  ];
}

/** Requests and failures per second, by endpoint. */
function requestPanels(): PanelSpec[] {
  return [
    {
      title: "Requests per second by endpoint",
      type: "timeseries",
      unit: "reqps",
      w: 12,
      h: 8,
      targets: [{
        expr: rate("stampede_requests_total", "method, name"),
        legend: "{{method}} {{name}}",
      }],
    },
    {
      title: "Failures per second by endpoint and status",
      type: "timeseries",
      unit: "reqps",
      w: 12,
      h: 8,
      description: "Status 0: no response (network error, timeout); TASK: an exception in a task",
      targets: [{
        expr: rate("stampede_request_failures_total", "method, name, status"),
        legend: "{{method}} {{name}} {{status}}",
      }],
    },
  ];
}

/** Latency: exact percentiles of the last 10 s, in total and by endpoint, and from the buckets. */
function latencyPanels(): PanelSpec[] {
  return [
    {
      title: "Latency percentiles, every request (exact, last 10 s)",
      type: "timeseries",
      unit: "s",
      w: 12,
      h: 8,
      description: "From the HDR histograms: exact to 3 significant digits, over a rolling 10 s",
      targets: [{
        expr:
          `max by (quantile) (stampede_window_request_duration_seconds{${RUN}, name="Aggregated"})`,
        legend: "p{{quantile}}",
      }],
    },
    {
      title: "p95 latency by endpoint (exact, last 10 s)",
      type: "timeseries",
      unit: "s",
      w: 12,
      h: 8,
      targets: [{
        expr: window("0.95", "method, name", ', name=~"$name", name!="Aggregated"'),
        legend: "{{method}} {{name}}",
      }],
    },
    {
      title: "Latency percentiles from the histogram buckets",
      type: "timeseries",
      unit: "s",
      w: 12,
      h: 8,
      description:
        "histogram_quantile over stampede_request_duration_seconds: within a bucket of the exact value; aggregates across runs. With --traces, the dots are exemplars: a sampled request of that bucket, a click away from its trace",
      targets: ["0.5", "0.95", "0.99"].map((q) => ({
        expr:
          `histogram_quantile(${q}, sum by (le) (rate(stampede_request_duration_seconds_bucket{${REQ}}[$__rate_interval])))`,
        legend: `p${Number(q) * 100}`,
        exemplar: true,
      })),
    },
  ];
}

/** Users by kind over time, with the number of load workers. */
function usersPanel(): PanelSpec {
  return {
    title: "Users by kind, and load workers",
    type: "timeseries",
    unit: "short",
    w: 12,
    h: 8,
    targets: [
      { expr: `sum by (kind) (stampede_users{${RUN}})`, legend: "{{kind}}" },
      { expr: `sum(stampede_workers{${RUN}})`, legend: "workers" },
    ],
  };
}

/** One row per endpoint: counts over the time range, mean and exact percentiles. */
function endpointsTable(): PanelSpec {
  const columns = ["Requests", "Failures", "Req/s", "Mean", "p50", "p95", "p99"];
  return {
    title: "Requests by endpoint",
    type: "table",
    w: 24,
    h: 10,
    description:
      "Counts over the time range; latencies: mean since the start, exact percentiles of the last 10 s",
    targets: [
      { expr: perEndpoint("stampede_requests_total"), table: true },
      { expr: perEndpoint("stampede_request_failures_total"), table: true },
      { expr: rate("stampede_requests_total", "method, name"), table: true },
      {
        expr: `${perEndpoint("stampede_request_duration_seconds_sum")} / ${
          perEndpoint("stampede_request_duration_seconds_count")
        }`,
        table: true,
      },
      ...["0.5", "0.95", "0.99"].map((q) => ({
        expr: window(q, "method, name", ', name=~"$name", name!="Aggregated"'),
        table: true,
      })),
    ],
    transformations: [
      { id: "merge", options: {} },
      {
        id: "organize",
        options: {
          excludeByName: { Time: true },
          renameByName: Object.fromEntries(
            columns.map((c, i) => [`Value #${String.fromCharCode(65 + i)}`, c]),
          ),
        },
      },
    ],
    fieldConfig: {
      defaults: {},
      overrides: [
        ...["Mean", "p50", "p95", "p99"].map((c) => ({
          matcher: { id: "byName", options: c },
          properties: [{ id: "unit", value: "s" }],
        })),
        {
          matcher: { id: "byName", options: "Req/s" },
          properties: [{ id: "unit", value: "reqps" }],
        },
      ],
    },
  };
}

/** One row per run: its id, test plan, host, version and tags. */
function runsTable(): PanelSpec {
  return {
    title: "Runs",
    type: "table",
    w: 24,
    h: 6,
    description: "run_id, testplan, host, version and the --tag labels of each run",
    targets: [{ expr: `last_over_time(stampede_run_info{${RUN}}[$__range])`, table: true }],
    transformations: [{
      id: "organize",
      options: { excludeByName: { Time: true, Value: true, __name__: true } },
    }],
  };
}

/** The variables: datasource, then test plan, run and request name, each narrowing the next. */
function prometheusVariables(): Json[] {
  return [
    datasourceVariable("prometheus", "Prometheus", "stampede-prometheus"),
    queryVariable("testplan", "Test plan", PROMETHEUS, {
      query: "label_values(stampede_run_info, testplan)",
      refId: "StandardVariableQuery",
    }),
    queryVariable("run_id", "Run", PROMETHEUS, {
      query: 'label_values(stampede_run_info{testplan=~"$testplan"}, run_id)',
      refId: "StandardVariableQuery",
    }),
    queryVariable("name", "Request name", PROMETHEUS, {
      query: `label_values(stampede_requests_total{${RUN}}, name)`,
      refId: "StandardVariableQuery",
    }),
  ];
}

/** The Prometheus dashboard: the `stampede_*` families of `--recorder prometheus`. */
export function prometheusDashboard(): Json {
  const panels = layout(PROMETHEUS, [
    ...overviewPanels(),
    ...requestPanels(),
    ...latencyPanels(),
    usersPanel(),
    "Load model",
    ...loadModelPanels(),
    "Load generators",
    ...loadGeneratorPanels(),
    lifecycleEventsPanel(),
    "Endpoints",
    endpointsTable(),
    runsTable(),
  ]);
  return dashboard(
    "stampede-prometheus",
    "Stampede load test (Prometheus)",
    "Requests, failures, exact latency percentiles, users and load generators of Stampede runs, from --recorder prometheus",
    panels,
    prometheusVariables(),
  );
}
