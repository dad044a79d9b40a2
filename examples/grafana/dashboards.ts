// The Grafana dashboards as code: this module builds both dashboard JSON files.
//   deno run -A examples/grafana/dashboards.ts     rewrites examples/grafana/dashboards/*.json
// tests/cli_grafana_dashboards_test.ts checks the files are what this builds, that every metric the
// PromQL uses is in a real scrape, and that every field the LogQL reads is in real JSON records.

type Json = Record<string, unknown>;

/** Selects the runs chosen in the dashboard's variables. */
const RUN = 'testplan=~"$testplan", run_id=~"$run_id"';
/** ...and the request names chosen. */
const REQ = `${RUN}, name=~"$name"`;

const PROMETHEUS = { type: "prometheus", uid: "${datasource}" };
const LOKI = { type: "loki", uid: "${datasource}" };

interface Target {
  expr: string;
  legend?: string;
  /** An instant query in table format (for table panels). */
  table?: boolean;
}

interface PanelSpec {
  title: string;
  type: "timeseries" | "stat" | "table" | "logs";
  unit?: string;
  targets: Target[];
  /** Width in grid units (24 = full), height in rows. */
  w: number;
  h: number;
  description?: string;
  options?: Json;
  transformations?: Json[];
  fieldConfig?: Json;
}

/** Lays panels out left to right, wrapping at 24 columns, and gives them ids. */
function layout(datasource: Json, rows: (PanelSpec | string)[]): Json[] {
  const panels: Json[] = [];
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  let id = 1;
  for (const spec of rows) {
    if (typeof spec === "string") {
      y += rowHeight;
      x = 0;
      rowHeight = 0;
      panels.push({
        id: id++,
        type: "row",
        title: spec,
        collapsed: false,
        gridPos: { x: 0, y, w: 24, h: 1 },
        panels: [],
      });
      y += 1;
      continue;
    }
    if (x + spec.w > 24) {
      y += rowHeight;
      x = 0;
      rowHeight = 0;
    }
    panels.push({
      id: id++,
      type: spec.type,
      title: spec.title,
      ...(spec.description ? { description: spec.description } : {}),
      datasource,
      gridPos: { x, y, w: spec.w, h: spec.h },
      targets: spec.targets.map((t, i) => ({
        datasource,
        refId: String.fromCharCode(65 + i),
        expr: t.expr,
        ...(t.legend ? { legendFormat: t.legend } : {}),
        ...(t.table ? { instant: true, range: false, format: "table" } : {}),
        ...(datasource === LOKI ? { queryType: "range" } : {}),
      })),
      fieldConfig: spec.fieldConfig ??
        { defaults: spec.unit ? { unit: spec.unit } : {}, overrides: [] },
      options: spec.options ?? {},
      ...(spec.transformations ? { transformations: spec.transformations } : {}),
    });
    x += spec.w;
    rowHeight = Math.max(rowHeight, spec.h);
  }
  return panels;
}

function datasourceVariable(type: "prometheus" | "loki", label: string, uid: string): Json {
  return {
    name: "datasource",
    label,
    type: "datasource",
    query: type,
    current: { text: label, value: uid },
    hide: 0,
    refresh: 1,
  };
}

function queryVariable(name: string, label: string, datasource: Json, query: Json | string): Json {
  return {
    name,
    label,
    type: "query",
    datasource,
    query,
    definition: typeof query === "string" ? query : query.query,
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: ".*",
    current: { text: ["All"], value: ["$__all"] },
    sort: 1,
  };
}

function dashboard(
  uid: string,
  title: string,
  description: string,
  panels: Json[],
  variables: Json[],
) {
  return {
    uid,
    title,
    description,
    tags: ["stampede", "load-test"],
    editable: true,
    graphTooltip: 1,
    refresh: "5s",
    schemaVersion: 39,
    time: { from: "now-15m", to: "now" },
    timepicker: {},
    templating: { list: variables },
    annotations: { list: [] },
    links: [],
    panels,
  };
}

const stat = (title: string, expr: string, unit?: string, description?: string): PanelSpec => ({
  title,
  type: "stat",
  unit,
  description,
  w: 4,
  h: 4,
  targets: [{ expr }],
  options: {
    reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
    graphMode: "area",
  },
});

/** The Prometheus dashboard: the `stampede_*` families of `--recorder prometheus`. */
export function prometheusDashboard(): Json {
  const rate = (metric: string, by: string, selector = REQ) =>
    `sum by (${by}) (rate(${metric}{${selector}}[$__rate_interval]))`;
  const window = (quantile: string, by: string, extra = "") =>
    `max by (${by}) (stampede_window_request_duration_seconds{${RUN}, quantile="${quantile}"${extra}})`;
  const perEndpoint = (metric: string) =>
    `sum by (method, name) (last_over_time(${metric}{${REQ}}[$__range]))`;
  const endpointColumns = ["Requests", "Failures", "Req/s", "Mean", "p50", "p95", "p99"];
  const panels = layout(PROMETHEUS, [
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
        "histogram_quantile over stampede_request_duration_seconds: within a bucket of the exact value; aggregates across runs",
      targets: ["0.5", "0.95", "0.99"].map((q) => ({
        expr:
          `histogram_quantile(${q}, sum by (le) (rate(stampede_request_duration_seconds_bucket{${REQ}}[$__rate_interval])))`,
        legend: `p${Number(q) * 100}`,
      })),
    },
    {
      title: "Users by kind, and load workers",
      type: "timeseries",
      unit: "short",
      w: 12,
      h: 8,
      targets: [
        { expr: `sum by (kind) (stampede_users{${RUN}})`, legend: "{{kind}}" },
        { expr: `sum(stampede_workers{${RUN}})`, legend: "workers" },
      ],
    },
    "Load generators",
    {
      title: "CPU per load thread",
      type: "timeseries",
      unit: "percentunit",
      w: 8,
      h: 8,
      description:
        "1 = one core. Waiting: ready to run but no core free; high waiting means the generator, not the target, is the bottleneck",
      targets: [
        { expr: `max by (source) (stampede_cpu_usage_ratio{${RUN}})`, legend: "{{source}}" },
        { expr: `max by (source) (stampede_cpu_wait_ratio{${RUN}})`, legend: "{{source}} waiting" },
        {
          expr: `max by (source) (stampede_process_cpu_usage_ratio{${RUN}})`,
          legend: "whole process",
        },
      ],
    },
    {
      title: "Memory",
      type: "timeseries",
      unit: "bytes",
      w: 8,
      h: 8,
      targets: [
        {
          expr: `max by (source) (stampede_process_resident_memory_bytes{${RUN}})`,
          legend: "resident (process)",
        },
        {
          expr: `max by (source) (stampede_process_heap_used_bytes{${RUN}})`,
          legend: "{{source}} heap",
        },
      ],
    },
    {
      title: "Event loop lag p99",
      type: "timeseries",
      unit: "s",
      w: 8,
      h: 8,
      description: "A lagging loop delays sends and stretches measured latencies",
      targets: [{
        expr: `max by (source) (stampede_event_loop_lag_p99_seconds{${RUN}})`,
        legend: "{{source}}",
      }],
    },
    {
      title: "Network (every interface of the generator's host)",
      type: "timeseries",
      unit: "Bps",
      w: 12,
      h: 8,
      targets: [
        {
          expr:
            `sum by (source) (rate(stampede_network_sent_bytes_total{${RUN}}[$__rate_interval]))`,
          legend: "sent",
        },
        {
          expr:
            `sum by (source) (rate(stampede_network_received_bytes_total{${RUN}}[$__rate_interval]))`,
          legend: "received",
        },
      ],
    },
    {
      title: "Lifecycle events",
      type: "stat",
      w: 12,
      h: 8,
      description: "test_start, spawning_complete, test_stop, cpu_warning and worker events",
      targets: [{
        expr: `sum by (event) (last_over_time(stampede_lifecycle_events_total{${RUN}}[$__range]))`,
        legend: "{{event}}",
      }],
      options: {
        reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
        textMode: "value_and_name",
        graphMode: "none",
      },
    },
    "Endpoints",
    {
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
              endpointColumns.map((c, i) => [`Value #${String.fromCharCode(65 + i)}`, c]),
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
    },
    {
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
    },
  ]);
  const variables = [
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
  return dashboard(
    "stampede-prometheus",
    "Stampede load test (Prometheus)",
    "Requests, failures, exact latency percentiles, users and load generators of Stampede runs, from --recorder prometheus",
    panels,
    variables,
  );
}

/** Stream selector of the JSON records the log shipper labels (examples/grafana/alloy). */
function records(telemetryName: string): string {
  return `{job="stampede", telemetry_name="${telemetryName}", testplan=~"$testplan", run_id=~"$run_id"}`;
}

/** The Loki dashboard: the JSON records of `--recorder json`, shipped to Loki. */
export function lokiDashboard(): Json {
  const stats = records("stampede.request.metric.stats");
  const current = `${stats} | json | stats_type="current"`;
  const unwrap = (selector: string, field: string, by = "run_id") =>
    `max by (${by}) (max_over_time(${selector} | unwrap ${field} | __error__="" [$__interval]))`;
  const panels = layout(LOKI, [
    {
      title: "Requests/s (last 10 s)",
      type: "timeseries",
      unit: "reqps",
      w: 12,
      h: 8,
      targets: [
        { expr: unwrap(current, "current_rps"), legend: "{{run_id}} requests" },
        { expr: unwrap(current, "current_failures_per_sec"), legend: "{{run_id}} failures" },
      ],
    },
    {
      title: "Latency percentiles (exact, last 10 s)",
      type: "timeseries",
      unit: "ms",
      w: 12,
      h: 8,
      targets: ["50", "95", "99"].map((p) => ({
        expr: unwrap(current, `percentile_${p}_ms`),
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
        { expr: unwrap(current, "users"), legend: "{{run_id}} users" },
        { expr: unwrap(current, "workers"), legend: "{{run_id}} workers" },
      ],
    },
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
    {
      title: "Memory",
      type: "timeseries",
      unit: "bytes",
      w: 8,
      h: 8,
      targets: [
        {
          expr: unwrap(`${records("stampede.system.metric.mem")} | json`, "rss_bytes", "source"),
          legend: "resident (process)",
        },
        {
          expr: unwrap(
            `${records("stampede.system.metric.mem")} | json`,
            "heap_used_bytes",
            "source",
          ),
          legend: "{{source}} heap",
        },
      ],
    },
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
    {
      title: "Endpoints at the end of each run",
      type: "table",
      w: 24,
      h: 9,
      description: "The final per-endpoint records (stats_type endpoint), latencies in ms",
      targets: [{ expr: `${stats} | json | stats_type="endpoint"` }],
      transformations: [
        { id: "extractFields", options: { source: "Line", format: "json", replace: true } },
        {
          id: "organize",
          options: {
            includeByName: Object.fromEntries(
              [
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
              ].map((f) => [f, true]),
            ),
          },
        },
      ],
    },
    {
      title: "Lifecycle events",
      type: "logs",
      w: 24,
      h: 8,
      targets: [{
        expr: `{job="stampede", telemetry_type="event", testplan=~"$testplan", run_id=~"$run_id"}`,
      }],
      options: { showTime: true, wrapLogMessage: true, sortOrder: "Descending" },
    },
  ]);
  const labelValues = (label: string, stream: string) => ({
    type: 1,
    label,
    stream,
    refId: "LokiVariableQueryEditor-VariableQuery",
  });
  const variables = [
    datasourceVariable("loki", "Loki", "stampede-loki"),
    queryVariable("testplan", "Test plan", LOKI, labelValues("testplan", '{job="stampede"}')),
    queryVariable(
      "run_id",
      "Run",
      LOKI,
      labelValues("run_id", '{job="stampede", testplan=~"$testplan"}'),
    ),
  ];
  return dashboard(
    "stampede-loki",
    "Stampede load test (Loki, JSON records)",
    "The JSON records of --recorder json, shipped to Loki: current stats, system samples, final endpoints, lifecycle events",
    panels,
    variables,
  );
}

/** Where the dashboard files live, by file name. */
export const DASHBOARD_FILES: Record<string, () => Json> = {
  "stampede_prometheus.json": prometheusDashboard,
  "stampede_loki.json": lokiDashboard,
};

/** The text of a dashboard file: its JSON, two-space indented, ending with a line feed. */
export function dashboardText(build: () => Json): string {
  return JSON.stringify(build(), null, 2) + "\n";
}

if (import.meta.main) {
  const dir = new URL("./dashboards/", import.meta.url);
  await Deno.mkdir(dir, { recursive: true });
  for (const [file, build] of Object.entries(DASHBOARD_FILES)) {
    await Deno.writeTextFile(new URL(file, dir), dashboardText(build));
    console.log(`wrote examples/grafana/dashboards/${file}`);
  }
}
