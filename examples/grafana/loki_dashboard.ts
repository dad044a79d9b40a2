// The Loki dashboard: the JSON records of `--recorder json`, shipped to Loki, by section.
import {
  dashboard,
  datasourceVariable,
  type Json,
  layout,
  LOKI,
  memoryPanel,
  type PanelSpec,
  queryVariable,
} from "./panels.ts";

/** Stream selector of the JSON records the log shipper labels (examples/grafana/alloy). */
function records(telemetryName: string): string {
  return `{job="stampede", telemetry_name="${telemetryName}", testplan=~"$testplan", run_id=~"$run_id"}`;
}

/** The request stats records, current and final. */
const STATS = records("stampede.request.metric.stats");
/** The stats of the last 10 s, one record per interval. */
const CURRENT = `${STATS} | json | stats_type="current"`;

/** The largest value of a record's numeric `field` per interval, the largest `by` the labels. */
const unwrap = (selector: string, field: string, by = "run_id") =>
  `max by (${by}) (max_over_time(${selector} | unwrap ${field} | __error__="" [$__interval]))`;

/** The runs' current numbers: request and failure rates, exact percentiles, users and workers. */
function currentStatsPanels(): PanelSpec[] {
  return [
    {
      title: "Requests/s (last 10 s)",
      type: "timeseries",
      unit: "reqps",
      w: 12,
      h: 8,
      targets: [
        { expr: unwrap(CURRENT, "current_rps"), legend: "{{run_id}} requests" },
        { expr: unwrap(CURRENT, "current_failures_per_sec"), legend: "{{run_id}} failures" },
      ],
    },
    {
      title: "Latency percentiles (exact, last 10 s)",
      type: "timeseries",
      unit: "ms",
      w: 12,
      h: 8,
      targets: ["50", "95", "99"].map((p) => ({
        expr: unwrap(CURRENT, `percentile_${p}_ms`),
        legend: `{{run_id}} p${p}`,
      })),
    },
    {
      title: "Users and load workers",
      type: "timeseries",
      unit: "short",
      w: 12,
      h: 8,
      targets: [
        { expr: unwrap(CURRENT, "users"), legend: "{{run_id}} users" },
        { expr: unwrap(CURRENT, "workers"), legend: "{{run_id}} workers" },
      ],
    },
    {
      title: "Iterations started and dropped (since the start)",
      type: "timeseries",
      unit: "short",
      w: 12,
      h: 8,
      description:
        "Dropped: arrival-rate iterations no user of the pool could start within --max-lateness",
      targets: [
        { expr: unwrap(CURRENT, "iterations"), legend: "{{run_id}} started" },
        { expr: unwrap(CURRENT, "dropped_iterations"), legend: "{{run_id}} dropped" },
      ],
    },
  ];
}

/** The system samples of the load generators: CPU per thread, memory, event-loop lag, network. */
function systemPanels(): PanelSpec[] {
  const memory = `${records("stampede.system.metric.mem")} | json`;
  return [
    {
      title: "CPU per load thread",
      type: "timeseries",
      unit: "percent",
      w: 12,
      h: 8,
      targets: [{
        expr: unwrap(`${records("stampede.system.metric.cpu")} | json`, "cpu_percent", "source"),
        legend: "{{source}}",
      }],
    },
    memoryPanel(
      unwrap(memory, "rss_bytes", "source"),
      unwrap(memory, "heap_used_bytes", "source"),
    ),
    {
      title: "Event loop lag p99",
      type: "timeseries",
      unit: "ms",
      w: 8,
      h: 8,
      targets: [{
        expr: unwrap(
          `${records("stampede.system.metric.event_loop_lag")} | json`,
          "event_loop_lag_p99_ms",
          "source",
        ),
        legend: "{{source}}",
      }],
    },
    {
      title: "Network",
      type: "timeseries",
      unit: "Bps",
      w: 8,
      h: 8,
      description: "Bytes over each sample's span, per second",
      targets: ["sent", "received"].map((direction) => ({
        expr: `sum by (source) (rate(${
          records("stampede.system.metric.network")
        } | json | unwrap network_${direction}_bytes | __error__="" [$__interval]))`,
        legend: `{{source}} ${direction}`,
      })),
    },
  ];
}

/** The final per-endpoint records of each run, as a table of their fields. */
function endpointsTable(): PanelSpec {
  const fields = [
    "run_id",
    "method",
    "name",
    "requests",
    "failures",
    "rps",
    "mean_ms",
    "percentile_50_ms",
    "percentile_95_ms",
    "percentile_99_ms",
    "max_ms",
    "errors",
  ];
  return {
    title: "Endpoints at the end of each run",
    type: "table",
    w: 24,
    h: 9,
    description: "The final per-endpoint records (stats_type endpoint), latencies in ms",
    targets: [{ expr: `${STATS} | json | stats_type="endpoint"` }],
    transformations: [
      { id: "extractFields", options: { source: "Line", format: "json", replace: true } },
      {
        id: "organize",
        options: { includeByName: Object.fromEntries(fields.map((f) => [f, true])) },
      },
    ],
  };
}

/** The lifecycle event records, as log lines. */
function lifecycleEventsPanel(): PanelSpec {
  return {
    title: "Lifecycle events",
    type: "logs",
    w: 24,
    h: 8,
    targets: [{
      expr: `{job="stampede", telemetry_type="event", testplan=~"$testplan", run_id=~"$run_id"}`,
    }],
    options: { showTime: true, wrapLogMessage: true, sortOrder: "Descending" },
  };
}

/** The variables: datasource, then test plan and run, each narrowing the next. */
function lokiVariables(): Json[] {
  const labelValues = (label: string, stream: string) => ({
    type: 1,
    label,
    stream,
    refId: "LokiVariableQueryEditor-VariableQuery",
  });
  return [
    datasourceVariable("loki", "Loki", "stampede-loki"),
    queryVariable("testplan", "Test plan", LOKI, labelValues("testplan", '{job="stampede"}')),
    queryVariable(
      "run_id",
      "Run",
      LOKI,
      labelValues("run_id", '{job="stampede", testplan=~"$testplan"}'),
    ),
  ];
}

/** The Loki dashboard: the JSON records of `--recorder json`, shipped to Loki. */
export function lokiDashboard(): Json {
  const panels = layout(LOKI, [
    ...currentStatsPanels(),
    ...systemPanels(),
    endpointsTable(),
    lifecycleEventsPanel(),
  ]);
  return dashboard(
    "stampede-loki",
    "Stampede load test (Loki, JSON records)",
    "The JSON records of --recorder json, shipped to Loki: current stats, system samples, final endpoints, lifecycle events",
    panels,
    lokiVariables(),
  );
}
