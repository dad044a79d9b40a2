// What the Prometheus recorder serves: the stampede_* families (requests, durations, users,
// state, events, system), accumulated from interval snapshots, never per request; the request
// families are rendered by request_families.ts.
import { bucketCounts } from "../../core/stats/histogram.ts";
import type {
  CheckResult,
  FinalSnapshot,
  IntervalSnapshot,
  IterationCounts,
  LifecycleEvent,
  SystemSample,
  ThresholdResult,
} from "../../core/recorder/types.ts";
import type { RunInfo } from "../../core/run_info.ts";
import type { Exemplar } from "../../core/stats/exemplars.ts";
import {
  endpointKey,
  type FailureStats,
  type IntervalCell,
  type StatsView,
} from "../../core/stats/types.ts";
import { type ExpositionFormat, ExpositionWriter, type Labels, toLabelName } from "./exposition.ts";
import { renderLocustFamilies } from "./locust_compat.ts";
import { type EndpointSeries, renderRequestFamilies } from "./request_families.ts";
import { SystemFamilies } from "./system.ts";

export { quantileLabel } from "./request_families.ts";

/** Bucket bounds of the request duration histogram, in seconds, unless told otherwise. */
export const DEFAULT_BUCKETS_SECONDS: readonly number[] = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
];

/** Distinct request names kept as labels before the rest are grouped, unless told otherwise. */
export const DEFAULT_MAX_NAMES = 200;

/** The `name` label of requests past the limit of distinct names. */
export const OTHER_NAME = "(other)";

/** Which extra families to serve beside the `stampede_*` ones. */
export type CompatFamilies = "none" | "locust";

/** Options of {@link PrometheusMetrics}. */
export interface PrometheusMetricsOptions {
  run: RunInfo;
  /** Percentiles served as the `quantile` label of the current-window gauges (0–100). */
  percentiles: readonly number[];
  /** Bucket bounds of the duration histogram in seconds, ascending. */
  bucketsSeconds?: readonly number[];
  /** Distinct request names kept before the rest become `(other)`. */
  maxNames?: number;
  compat?: CompatFamilies;
  /** Where the cardinality warning goes (once). */
  warn?: (message: string) => void;
}

/** The run's state as `stampede_state` reports it. */
export type RunState = "spawning" | "running" | "stopped";
const RUN_STATES: readonly RunState[] = ["spawning", "running", "stopped"];

/** Events whose counters exist from the start, so the first `increase()` sees 0 → 1. */
const COORDINATOR_EVENTS = [
  "test_start",
  "spawning_complete",
  "stage_started",
  "test_stop",
  "cpu_warning",
];

/** Labels of the run info metric that tags may not take over. */
const RESERVED_LABELS = new Set([
  "run_id",
  "testplan",
  "host",
  "version",
  "job",
  "instance",
  "le",
  "quantile",
]);

/**
 * Everything the Prometheus recorder serves, accumulated from the interval snapshots: exact
 * cumulative counters and classic histogram buckets (from each interval's cells, never per
 * request), the current window's percentiles, users, workers, state, lifecycle event counters
 * and the latest system sample of each load process.
 */
export class PrometheusMetrics {
  readonly #run: RunInfo;
  readonly #percentiles: readonly number[];
  readonly #boundsSeconds: readonly number[];
  readonly #boundsUs: readonly number[];
  readonly #maxNames: number;
  readonly #compat: CompatFamilies;
  readonly #warn: (message: string) => void;
  readonly #constLabels: Labels;
  readonly #infoLabels: Labels;

  readonly #names = new Set<string>();
  #warnedNames = false;
  readonly #endpoints = new Map<string, EndpointSeries>();
  #window: StatsView | null = null;
  #cumulative: StatsView | null = null;
  #failures: FailureStats[] = [];
  #usersByKind: Record<string, number> = {};
  #workers = 0;
  #state: RunState = "spawning";
  #thresholds: readonly ThresholdResult[] = [];
  #checks: readonly CheckResult[] = [];
  #iterations: readonly IterationCounts[] = [];
  #targetRates: Record<string, number> = {};
  readonly #events = new Map<string, { event: string; source: string; count: number }>();
  readonly #system = new SystemFamilies();

  constructor(options: PrometheusMetricsOptions) {
    this.#run = options.run;
    this.#percentiles = options.percentiles;
    this.#boundsSeconds = options.bucketsSeconds ?? DEFAULT_BUCKETS_SECONDS;
    this.#boundsUs = this.#boundsSeconds.map((s) => Number((s * 1e6).toPrecision(12)));
    this.#maxNames = options.maxNames ?? DEFAULT_MAX_NAMES;
    this.#compat = options.compat ?? "none";
    this.#warn = options.warn ?? (() => {});
    this.#constLabels = { run_id: this.#run.runId, testplan: this.#run.testplan };
    this.#infoLabels = { host: this.#run.host, version: this.#run.version };
    for (const [key, value] of Object.entries(this.#run.tags)) {
      const name = toLabelName(key);
      this.#infoLabels[RESERVED_LABELS.has(name) ? `tag_${name}` : name] = value;
    }
    for (const event of COORDINATOR_EVENTS) this.#countEvent(event, "coordinator", 0);
  }

  /** The request name as a label: itself while under the limit of distinct names. */
  #admit(name: string): string {
    if (this.#names.has(name)) return name;
    if (this.#names.size < this.#maxNames) {
      this.#names.add(name);
      return name;
    }
    if (!this.#warnedNames) {
      this.#warnedNames = true;
      this.#warn(
        `prometheus: more than ${this.#maxNames} distinct request names; "${name}" and later ` +
          `new names are served as name="${OTHER_NAME}". Group dynamic URLs with ` +
          `{ name: "/item/:id" } or raise --prometheus-max-names`,
      );
    }
    return OTHER_NAME;
  }

  #addCells(cells: readonly IntervalCell[]): void {
    for (const cell of cells) {
      const name = this.#admit(cell.name);
      const key = endpointKey(cell.method, name);
      let series = this.#endpoints.get(key);
      if (!series) {
        series = {
          method: cell.method,
          name,
          byStatus: new Map(),
          buckets: new Array(this.#boundsUs.length + 1).fill(0),
          exemplars: [],
          sumUs: 0,
          bytes: 0,
          corrected: null,
          correctedSumUs: 0,
        };
        this.#endpoints.set(key, series);
      }
      let counts = series.byStatus.get(cell.status);
      if (!counts) series.byStatus.set(cell.status, counts = { requests: 0, failures: 0 });
      counts.requests += cell.requests;
      if (cell.failed) counts.failures += cell.requests;
      series.bytes += cell.bytes;
      if (cell.histogram !== null) {
        const added = bucketCounts(cell.histogram, this.#boundsUs);
        for (let i = 0; i < added.length; i++) series.buckets[i] += added[i];
        series.sumUs += cell.sumUs;
      }
      const corrected = cell.correctedHistogram;
      if (corrected) {
        const added = bucketCounts(corrected, this.#boundsUs);
        series.corrected ??= new Array(this.#boundsUs.length + 1).fill(0);
        for (let i = 0; i < added.length; i++) series.corrected[i] += added[i];
        series.correctedSumUs += corrected.mean * corrected.totalCount;
      }
      if (cell.exemplars !== undefined) this.#addExemplars(series, cell.exemplars);
    }
  }

  /** Keeps each exemplar as the latest of its bucket (a value equal to a bound is in it). */
  #addExemplars(series: EndpointSeries, exemplars: readonly Exemplar[]): void {
    for (const e of exemplars) {
      let i = this.#boundsUs.findIndex((boundUs) => e.valueUs <= boundUs);
      if (i < 0) i = this.#boundsUs.length;
      const kept = series.exemplars[i];
      if (kept !== undefined && kept.timeMs > e.timeMs) continue;
      series.exemplars[i] = {
        traceId: e.traceId,
        spanId: e.spanId,
        value: e.valueUs / 1e6,
        timeMs: e.timeMs,
      };
    }
  }

  #countEvent(event: string, source: string, by: number): void {
    const key = `${event}\u0000${source}`;
    const entry = this.#events.get(key);
    if (entry) entry.count += by;
    else this.#events.set(key, { event, source, count: by });
  }

  /** Takes one interval snapshot. */
  interval(snapshot: IntervalSnapshot): void {
    this.#addCells(snapshot.cells);
    this.#window = snapshot.window;
    this.#cumulative = snapshot.cumulative;
    this.#failures = snapshot.failures;
    this.#usersByKind = { ...snapshot.usersByKind };
    this.#workers = snapshot.workers;
    this.#checks = snapshot.checks;
    this.#iterations = snapshot.iterations;
    this.#targetRates = snapshot.targetRates;
  }

  /** Takes the final snapshot: the last cells; users and workers drop to 0. */
  final(snapshot: FinalSnapshot): void {
    this.#addCells(snapshot.cells);
    this.#cumulative = snapshot.cumulative;
    this.#failures = snapshot.failures;
    this.#usersByKind = Object.fromEntries(
      Object.keys({ ...this.#usersByKind, ...snapshot.usersByKind }).map((kind) => [kind, 0]),
    );
    this.#workers = 0;
    this.#state = "stopped";
    this.#thresholds = snapshot.thresholds;
    this.#checks = snapshot.checks;
    this.#iterations = snapshot.iterations;
    this.#targetRates = Object.fromEntries(Object.keys(this.#targetRates).map((k) => [k, 0]));
  }

  /** Counts one lifecycle event and follows the run's state. */
  event(event: LifecycleEvent): void {
    this.#countEvent(event.name, event.source, 1);
    if (event.name === "spawning_complete" && this.#state === "spawning") this.#state = "running";
    if (event.name === "test_stop") this.#state = "stopped";
  }

  /** Takes system samples of the load processes. */
  samples(samples: readonly SystemSample[]): void {
    this.#system.add(samples);
  }

  /** The exposition of everything so far, in the text format or OpenMetrics (exemplars). */
  render(format: ExpositionFormat = "text"): string {
    const w = new ExpositionWriter(this.#constLabels, format);
    this.#renderRun(w);
    renderRequestFamilies(w, {
      endpoints: this.#endpoints,
      boundsSeconds: this.#boundsSeconds,
      window: this.#window,
      percentiles: this.#percentiles,
    });
    this.#system.render(w);
    if (this.#compat === "locust") {
      renderLocustFamilies(w, {
        cumulative: this.#cumulative,
        window: this.#window,
        state: this.#state,
        usersByKind: this.#usersByKind,
        workers: this.#workers,
        failures: this.#failures,
        served: (name) => this.#names.has(name),
      });
    }
    return w.text();
  }

  #renderRun(w: ExpositionWriter): void {
    w.family("stampede_run_info", "gauge", "Facts about the run (host, version, tags); always 1")
      .sample("stampede_run_info", this.#infoLabels, 1);
    w.family(
      "stampede_run_start_time_seconds",
      "gauge",
      "When the run started, in seconds since the Unix epoch",
    ).sample("stampede_run_start_time_seconds", {}, Date.parse(this.#run.startedAt) / 1000);
    if (this.#thresholds.length > 0) {
      w.family(
        "stampede_threshold_ok",
        "gauge",
        "1 when the threshold held at the end of the run, 0 when it was crossed",
      );
      for (const t of this.#thresholds) {
        w.sample(
          "stampede_threshold_ok",
          { metric: t.metric, expression: t.expression },
          t.ok ? 1 : 0,
        );
      }
    }
    w.family("stampede_state", "gauge", "The run's state: 1 for the current one, else 0");
    for (const state of RUN_STATES) {
      w.sample("stampede_state", { state }, state === this.#state ? 1 : 0);
    }
    w.family("stampede_users", "gauge", "Running virtual users by user kind");
    for (const [kind, users] of Object.entries(this.#usersByKind)) {
      w.sample("stampede_users", { kind }, users);
    }
    w.family("stampede_workers", "gauge", "Load workers running")
      .sample("stampede_workers", {}, this.#workers);
    w.family(
      "stampede_lifecycle_events_total",
      "counter",
      "Lifecycle events (test_start, spawning_complete, test_stop, cpu_warning, event_loop_lag_warning, worker_*) by source",
    );
    for (const { event, source, count } of this.#events.values()) {
      w.sample("stampede_lifecycle_events_total", { event, source }, count);
    }
    this.#renderIterations(w);
    w.family(
      "stampede_request_retries_total",
      "counter",
      "Requests sent again on a fresh connection after a reused one closed unanswered (h1, idempotent methods): attempts the target never answered",
    ).sample("stampede_request_retries_total", {}, this.#cumulative?.total.retries ?? 0);
    if (this.#checks.length > 0) {
      w.family(
        "stampede_checks_total",
        "counter",
        "Named checks evaluated, by check and result (pass or fail)",
      );
      for (const c of this.#checks) {
        w.sample("stampede_checks_total", { check: c.name, result: "pass" }, c.passes);
        w.sample("stampede_checks_total", { check: c.name, result: "fail" }, c.fails);
      }
    }
  }

  #renderIterations(w: ExpositionWriter): void {
    if (this.#iterations.length > 0) {
      w.family("stampede_iterations_total", "counter", "Iterations (task runs) started, by kind");
      for (const c of this.#iterations) {
        w.sample("stampede_iterations_total", { kind: c.kind }, c.started);
      }
      w.family(
        "stampede_dropped_iterations_total",
        "counter",
        "Arrival-rate iterations dropped (no user of the pool free within the lateness bound)",
      );
      for (const c of this.#iterations) {
        w.sample("stampede_dropped_iterations_total", { kind: c.kind }, c.dropped);
      }
    }
    const rates = Object.entries(this.#targetRates);
    if (rates.length > 0) {
      w.family(
        "stampede_target_arrival_rate",
        "gauge",
        "The arrival rate each open-model kind is configured to have now, in iterations/s",
      );
      for (const [kind, rate] of rates) w.sample("stampede_target_arrival_rate", { kind }, rate);
    }
  }
}
