// Locust-compatible families for existing Locust dashboards (--prometheus-compat locust): the
// community `locust_*` gauges, latencies in ms, computed from the same snapshots as ours.
import {
  endpointKey,
  type EndpointStats,
  type FailureStats,
  type StatsView,
} from "../../core/stats/types.ts";
import type { ExpositionWriter } from "./exposition.ts";

/** What the Locust families are computed from. */
export interface LocustView {
  cumulative: StatsView | null;
  window: StatsView | null;
  state: "spawning" | "running" | "stopped";
  usersByKind: Record<string, number>;
  workers: number;
  failures: readonly FailureStats[];
  /** Whether a request name is served as its own label (under the limit of distinct names). */
  served(name: string): boolean;
}

/**
 * The community `locust_*` families (gauges, latencies in ms) that the ContainerSolutions
 * exporter serves (Grafana dashboard 11985), plus the global names of dashboard 20462.
 */
export function renderLocustFamilies(w: ExpositionWriter, run: LocustView): void {
  renderRun(w, run);
  renderEndpoints(w, run);
}

/** The run-wide gauges: state, users, workers, totals and the current percentiles. */
function renderRun(w: ExpositionWriter, run: LocustView): void {
  const cumulative = run.cumulative;
  const window = run.window;
  const running = { spawning: 1, running: 2, stopped: 0 }[run.state];
  const users = Object.values(run.usersByKind).reduce((a, b) => a + b, 0);
  const one = (name: string, help: string, value: number) =>
    w.family(name, "gauge", help).sample(name, {}, value);
  one("locust_up", "1: the exporter answers", 1);
  one("locust_running", "0: stopped, 1: spawning, 2: running", running);
  w.family("locust_state", "gauge", "1 for the current state (spawning, running, stopped)")
    .sample("locust_state", { state: run.state }, 1);
  one("locust_users", "Running users", users);
  one("locust_user_count", "Running users", users);
  one("locust_workers_count", "Load workers", run.workers);
  one("locust_workers_running_count", "Load workers running", run.workers);
  one("locust_workers", "Load workers", run.workers);

  const total = cumulative?.total;
  const windowTotal = window?.total;
  const failRatio = total && total.requests > 0 ? total.failures / total.requests : 0;
  one("locust_requests_fail_ratio", "Failed requests / requests since the start", failRatio);
  one("locust_fail_ratio", "Failed requests / requests since the start", failRatio);
  one("locust_total_rps", "Requests per second since the start", total?.rps ?? 0);
  one(
    "locust_total_fail_per_sec",
    "Failures per second since the start",
    total?.failuresPerSec ?? 0,
  );
  one(
    "locust_total_avg_response_time",
    "Mean response time (ms) since the start",
    total?.meanMs ?? 0,
  );
  for (const p of ["50", "95"]) {
    const value = windowTotal?.percentilesMs[p] ?? 0;
    one(
      `locust_requests_current_response_time_percentile_${p}`,
      `p${p} response time (ms) of the last 10 s`,
      value,
    );
    one(
      `locust_current_response_time_percentile_${p}`,
      `p${p} response time (ms) of the last 10 s`,
      value,
    );
  }
}

/** The per-endpoint `locust_requests_*` gauges and `locust_errors`. */
function renderEndpoints(w: ExpositionWriter, run: LocustView): void {
  const { cumulative, window } = run;
  // Per-endpoint rows, with the total as method="" name="Aggregated", as Locust shows them.
  const rows: { e: EndpointStats; current: EndpointStats | undefined; method: string }[] = [];
  if (cumulative) {
    const current = new Map(window?.endpoints.map((e) => [`${e.method}\u0000${e.name}`, e]));
    for (const e of cumulative.endpoints) {
      if (!run.served(e.name)) continue;
      rows.push({ e, current: current.get(endpointKey(e.method, e.name)), method: e.method });
    }
    rows.push({ e: cumulative.total, current: window?.total, method: "" });
  }
  const field = (
    name: string,
    help: string,
    value: (e: EndpointStats, current: EndpointStats | undefined) => number | undefined,
  ) => {
    w.family(`locust_requests_${name}`, "gauge", help);
    for (const row of rows) {
      const v = value(row.e, row.current);
      if (v !== undefined) {
        w.sample(`locust_requests_${name}`, { method: row.method, name: row.e.name }, v);
      }
    }
  };
  field("num_requests", "Requests since the start", (e) => e.requests);
  field("num_failures", "Failures since the start", (e) => e.failures);
  field("avg_response_time", "Mean response time (ms)", (e) => e.meanMs);
  field("min_response_time", "Minimum response time (ms)", (e) => e.minMs);
  field("max_response_time", "Maximum response time (ms)", (e) => e.maxMs);
  field("median_response_time", "Median response time (ms)", (e) => e.percentilesMs["50"]);
  field("response_time_percentile_95", "p95 response time (ms)", (e) => e.percentilesMs["95"]);
  field("response_time_percentile_99", "p99 response time (ms)", (e) => e.percentilesMs["99"]);
  field("current_rps", "Requests per second over the last 10 s", (_, c) => c?.rps ?? 0);
  field(
    "current_fail_per_sec",
    "Failures per second over the last 10 s",
    (_, c) => c?.failuresPerSec ?? 0,
  );
  field(
    "avg_content_length",
    "Mean response size (bytes)",
    (e) => e.requests > 0 ? e.bytes / e.requests : 0,
  );
  w.family("locust_errors", "gauge", "Failures since the start by error text");
  for (const f of run.failures) {
    if (!run.served(f.name)) continue;
    w.sample("locust_errors", { method: f.method, name: f.name, error: f.error }, f.occurrences);
  }
}
