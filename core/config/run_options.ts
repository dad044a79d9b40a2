// The options of a run as a caller gives them (the CLI's flags, or run()'s second argument),
// before anything is resolved.
import type { HttpEngineName } from "../http/engine.ts";
import type { RateStageSpec, StageSpec } from "../plan/plan.ts";
import type { PlanLoaderName } from "../plan/plan_loader.ts";
import type { Rate } from "../rate.ts";
import type { RecorderRegistry } from "../recorder/registry.ts";
import type { RecorderPlugin } from "../recorder/types.ts";
import type { DistributedOptions } from "../run/distributed.ts";
import type { TextSink } from "../sink.ts";

/** Options of `run()`; each one wins over the plan's own `load`, `host` and `name`. */
export interface RunOptions {
  /** Peak concurrent users (default: the plan's, else 1). */
  users?: number;
  /** Users started per second (default: the plan's, else all at once). */
  spawnRate?: number;
  /** Stages instead of a ramp: `"30s:50,1m:50,20s:0"` or `[{ duration, users }]`. */
  stages?: string | StageSpec[];
  /** Run time: `30s`, `5m`, `1h30m` or seconds (default: the plan's, else until stopped). */
  runTime?: string | number;
  /**
   * An open model: iterations start at this rate (`"200/s"`, `"50/m"`, or stages
   * `"30s:100/s,1m:100/s"`), split over the weighted kinds, with `users` as the pool.
   */
  arrivalRate?: Rate | RateStageSpec[];
  /** The arrival-rate pool may grow to this many users (default: `users`). */
  maxUsers?: number;
  /** How late an arrival-rate iteration may start before it is dropped (default 1 s). */
  maxLateness?: string | number;
  /** The run ends after this many iterations (task runs) in total. */
  iterations?: number;
  /** Target base URL (default: the plan's). */
  host?: string;
  /** Load workers (Web Workers); 0 runs users on the calling thread. */
  workers?: number;
  /** Time in-flight tasks get after the stop (default 0: cut off and counted as aborted). */
  stopTimeout?: string | number;
  /** Time the plan may take to load, on this thread and in each load worker (default 60 s). */
  loadTimeout?: string | number;
  /** Distinct request names per method kept as rows; the rest count as `(other)` (default 500). */
  maxNames?: number;
  /** Thresholds beside the plan's: `"http.duration: p(95)<200"`, `"http.failures: rate<0.01"`. */
  thresholds?: string[];
  /** The summary file of an earlier run, for thresholds such as `p(95) < baseline * 1.10`. */
  baseline?: string;
  /** Writes JUnit XML, a test case per threshold, to this path at the end. */
  junitPath?: string;
  /**
   * How a plan module is loaded: `import` (Deno's import) or `bundle` (bundled with esbuild and
   * evaluated; docs/compile.md). Default: `bundle` in a compiled stampede, else `import`.
   */
  planLoader?: PlanLoaderName;
  /** How often workers report and recorders get a snapshot (default 1 s). */
  statsInterval?: string | number;
  /** Recorders: built-in ids, module paths or plugin objects (default `["console"]`). */
  recorders?: (string | RecorderPlugin)[];
  /** Options of the recorder plugins by camelCase name (`jsonFile`). */
  recorderOptions?: Record<string, unknown>;
  /** Writes the summary JSON to this path. */
  summaryPath?: string;
  // -- outputs (issue #15): each turns its recorder on, as if named in `recorders`.
  /** Writes Locust's CSV files with this prefix: `PREFIX_stats.csv`, ... (the `csv` recorder). */
  csv?: string;
  /** Writes the HTML report to this path (the `report` recorder). */
  report?: string;
  /** The run's `testplan` name (default: the plan's name, else the plan file's name). */
  testplan?: string;
  /** Tags attached to every record. */
  tags?: Record<string, string>;
  /** Percentiles reported by recorders (default 50, 90, 95, 99, 99.9). */
  percentiles?: number[];
  /** The HTTP engine, `h1` or `fetch` (default: the plan's `http.engine`, else `h1`). */
  httpEngine?: HttpEngineName;
  /** Skip TLS certificate checks (h1 only; default: the plan's `http.insecure`, else false). */
  insecure?: boolean;
  /**
   * Traces every request (W3C `traceparent`, client spans over OTLP, exemplars); default:
   * on when `OTEL_TRACES_EXPORTER=otlp` (docs/traces.md).
   */
  traces?: boolean;
  /** The share of iterations (traces) sampled, 0 to 1 (default: `OTEL_TRACES_SAMPLER`, else 1). */
  traceSampleRatio?: number | string;
  /** Where spans go (default: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_ENDPOINT`). */
  traceEndpoint?: string;
  /** A W3C `tracestate` sent with every traced request, e.g. `"vendor=value"`. */
  traceState?: string;
  /** Stops the run gracefully when aborted; a reason of `"terminated"` marks a SIGTERM. */
  signal?: AbortSignal;
  /** Aborted during the stop, cuts running tasks off at once (a second Ctrl-C). */
  cutOff?: AbortSignal;
  /** URL of the plan module, so Web Workers can import a plan passed as an object. */
  planUrl?: string | URL;
  stdout?: TextSink;
  stderr?: TextSink;
  /** Where recorder ids are looked up (default: the built-in recorders). */
  registry?: RecorderRegistry;
  /**
   * Coordinate worker processes on other machines (`stampede worker --connect`) instead of
   * running load workers here: they get the plan from this process, and the load is theirs.
   */
  distributed?: DistributedOptions;
}
