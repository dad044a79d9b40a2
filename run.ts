// The composition root shared by cli.ts and mod.ts: resolves every setting once, owns the
// recorder set from creation to stop, and runs the coordinator.
import { basename, extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { getLogger } from "npm:@logtape/logtape@2.4.2";
import { formatDuration, parseDuration } from "./core/duration.ts";
import { describeError, PlanError, RunError, UsageError } from "./core/errors.ts";
import { DEFAULT_TIMEOUT_MS } from "./core/http/client.ts";
import { DEFAULT_HTTP_ENGINE, HTTP_ENGINES, type HttpEngineName } from "./core/http/engine.ts";
import {
  checkHost,
  isPlan,
  type LoadSpec,
  MAX_USERS,
  type NormalizedUserKind,
  type Plan,
  planTimeoutMs,
  type RateStageSpec,
  type StageSpec,
  userKindsOf,
} from "./core/plan/plan.ts";
import { checkStages, MAX_ITERATIONS, planThresholds } from "./core/plan/validate.ts";
import type { Rate } from "./core/rate.ts";
import { parseArrivalRate, resolveArrivals } from "./core/run/arrivals.ts";
import { readSummaryFile } from "./core/stats/summary_file.ts";
import { ThresholdEvaluator } from "./core/stats/thresholds.ts";
import { parseThresholdFlag, parseThresholds } from "./core/threshold_syntax.ts";
import { rampProfile, shapeProfile, stagesProfile } from "./core/run/load_profile.ts";
import type { LoadProfile } from "./core/run/ramp.ts";
import {
  defaultPlanLoader,
  loadPlanModule,
  PLAN_LOADERS,
  type PlanLoaderName,
} from "./core/plan/plan_loader.ts";
import type { RecorderRegistry } from "./core/recorder/registry.ts";
import { RecorderSet } from "./core/recorder/recorder_set.ts";
import type { Recorder, RecorderPlugin } from "./core/recorder/types.ts";
import { createRunInfo, type RunInfo, signalReason } from "./core/run_info.ts";
import { coordinate, type CoordinatorOptions, type RunOutcome } from "./core/run/coordinator.ts";
import { loadTable, type SharedTable } from "./core/run/data_table.ts";
import {
  checkPlanSize,
  type DistributedOptions,
  type DistributedSettings,
  resolveDistributed,
} from "./core/run/distributed.ts";
import { RemoteTransport } from "./core/run/remote_transport.ts";
import { WorkerServer } from "./core/run/worker_server.ts";
import { inlineTransport } from "./core/run/inline_transport.ts";
import { IN_LOAD_WORKER } from "./core/run/load_worker.ts";
import { withPlanCode } from "./core/run/plan_code_transport.ts";
import type { HttpSettings } from "./core/run/protocol.ts";
import { webWorkerTransport } from "./core/run/web_worker_transport.ts";
import type { WorkerTransport } from "./core/run/worker_transport.ts";
import { redactUrls } from "./core/redact.ts";
import { checkWritable, fileSink, type TextSink, writeFileAtomic } from "./core/sink.ts";
import { DEFAULT_MAX_NAMES, StatsAggregator } from "./core/stats/aggregator.ts";
import { ABORTED, settleWithin } from "./core/timers.ts";
import { buildSummary, type Summary } from "./core/stats/summary.ts";
import { DEFAULT_PERCENTILES } from "./core/stats/types.ts";
import { builtinRegistry } from "./recorders/builtin.ts";
import { junitRecorder } from "./recorders/junit.ts";
import { resolveTraceConfig } from "./recorders/otel/trace_config.ts";
import { checkTracestate } from "./core/http/trace_context.ts";
import type { TraceSettings } from "./core/span_sink.ts";

/** Options of {@link run}; each one wins over the plan's own `load`, `host` and `name`. */
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

/** Resolves a plan path or URL against the working directory. */
export function planUrlOf(path: string | URL): string {
  if (path instanceof URL) return path.href;
  return /^(file|https?):/.test(path) ? path : pathToFileURL(resolve(path)).href;
}

/** The most distinct names per method a run may keep (each costs about 300 KB). */
const MAX_NAMES_LIMIT = 100_000;

/** More load workers than this is a mistake, not a plan: each is a thread. */
const MAX_WORKERS = 1024;

/** A count of users or workers: a whole number from 0 to `max`. */
function wholeCount(value: number, what: string, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new UsageError(
      `Cannot use ${what} "${value}": it must be a whole number from 0 to ${max}`,
    );
  }
  return value;
}

/** How long a plan may take to load when nothing says otherwise. */
export const DEFAULT_LOAD_TIMEOUT = "60s";

/**
 * The plan loader asked for, else the default (`bundle` in a compiled stampede, and always for a
 * coordinator: its workers get the bundled plan).
 */
function resolvePlanLoader(options: RunOptions): PlanLoaderName {
  if (options.distributed && options.planLoader === "import") {
    throw new UsageError(
      "Cannot use --plan-loader import with --coordinator: the workers get the plan bundled",
    );
  }
  const loader = options.planLoader ?? (options.distributed ? "bundle" : defaultPlanLoader());
  if (!(PLAN_LOADERS as readonly string[]).includes(loader)) {
    throw new UsageError(
      `Cannot use plan loader "${loader}": it is not one of ${PLAN_LOADERS.join(", ")}`,
    );
  }
  return loader;
}

/**
 * The plan object and, when it came from (or names) a module, that module's URL and (bundle
 * loader) its bundled code. A module that does not finish loading within `loadTimeoutMs` fails;
 * `plan` is null when a signal came first.
 */
async function loadPlan(
  plan: Plan | string | URL,
  options: RunOptions,
  loadTimeoutMs: number,
): Promise<{ plan: Plan | null; planUrl: string | null; planCode?: string }> {
  if (isPlan(plan)) {
    if (options.distributed) {
      throw new UsageError(
        "Cannot coordinate workers for a plan object: pass the path of its module, which the workers get bundled",
      );
    }
    return { plan, planUrl: options.planUrl ? planUrlOf(options.planUrl) : null };
  }
  if (typeof plan !== "string" && !(plan instanceof URL)) {
    throw new PlanError("Cannot run plan: pass definePlan({...}) or the path of a plan module");
  }
  const planUrl = planUrlOf(plan);
  const loader = resolvePlanLoader(options);
  // With the bundle loader, the wait includes bundling (about 1-2 s for esbuild to start).
  const loaded = await settleWithin(
    loadPlanModule(planUrl, loader),
    loadTimeoutMs,
    () =>
      new PlanError(
        `Cannot load plan "${planUrl}": it did not finish loading within ${
          formatDuration(loadTimeoutMs)
        } (a top-level await that never settles?); raise --load-timeout if it needs longer`,
      ),
    options.signal,
  );
  if (loaded === ABORTED) return { plan: null, planUrl };
  return { plan: loaded.plan, planUrl, planCode: loaded.planCode };
}

/** The HTTP settings of every user: run options win over the plan's `http`. */
function resolveHttp(options: RunOptions, plan: Plan, host: string): HttpSettings {
  const engine = options.httpEngine ?? plan.http?.engine ?? DEFAULT_HTTP_ENGINE;
  if (!(HTTP_ENGINES as readonly string[]).includes(engine)) {
    throw new UsageError(
      `Cannot use HTTP engine "${engine}": it is not one of ${HTTP_ENGINES.join(", ")}`,
    );
  }
  const insecure = options.insecure ?? plan.http?.insecure ?? false;
  if (insecure && engine === "fetch") {
    throw new UsageError(
      'Cannot skip certificate checks with the HTTP engine "fetch": Deno\'s fetch always checks them in-process; use the h1 engine, or run deno with --unsafely-ignore-certificate-errors instead of --insecure',
    );
  }
  return {
    host,
    engine,
    insecure,
    timeoutMs: planTimeoutMs(plan.http) ?? DEFAULT_TIMEOUT_MS,
    headers: { ...plan.http?.headers },
    traces: resolveTraces(options),
  };
}

/** Trace settings (`--traces` and the OTEL_* variables), or null when traces are off. */
function resolveTraces(options: RunOptions): TraceSettings | null {
  const config = resolveTraceConfig(options, (name) => Deno.env.get(name));
  if (config === null) {
    if (options.traceState) {
      throw new UsageError("Cannot use --trace-state without traces: add --traces");
    }
    return null;
  }
  let tracestate: string | null = null;
  if (options.traceState) {
    try {
      tracestate = checkTracestate(options.traceState) || null;
    } catch (cause) {
      throw new UsageError(
        `Cannot use --trace-state "${options.traceState}": ${(cause as Error).message}`,
        { cause },
      );
    }
  }
  const sinkUrl = new URL("./recorders/otel/span_sink.ts", import.meta.url).href;
  return { sinkUrl, sinkOptions: config, tracestate };
}

/** The run's settings without its recorders: every flag, env var and plan default, once. */
type RunSettings = Omit<
  CoordinatorOptions,
  "run" | "recorders" | "signal" | "cutOff" | "data" | "thresholds"
>;

/** The run's thresholds: the plan's and `--threshold`'s, with the baseline run they may name. */
async function resolveThresholds(plan: Plan, options: RunOptions): Promise<ThresholdEvaluator> {
  const flags: Record<string, string[]> = {};
  for (const text of options.thresholds ?? []) {
    const [metric, expression] = parseThresholdFlag(text);
    (flags[metric] ??= []).push(expression);
  }
  const thresholds = [
    ...planThresholds(plan),
    ...parseThresholds(flags, (d) => parseDuration(d, "delayAbortEval")),
  ];
  const needsBaseline = thresholds.find((t) => t.expression.baseline);
  if (needsBaseline && !options.baseline) {
    throw new UsageError(
      `Cannot use threshold "${needsBaseline.metricText}: ${needsBaseline.expressionText}": it compares with a baseline run; pass --baseline SUMMARY.json`,
    );
  }
  const baseline = options.baseline
    ? await readSummaryFile(options.baseline, "baseline")
    : undefined;
  return new ThresholdEvaluator(thresholds, baseline);
}

/** Reads the plan's data files, once, into memory its workers share. */
async function loadData(plan: Plan, planUrl: string | null): Promise<SharedTable[]> {
  const tables: SharedTable[] = [];
  for (const [name, source] of Object.entries(plan.data ?? {})) {
    tables.push(await loadTable(name, source, planUrl ?? "inline:"));
  }
  return tables;
}

/**
 * How many users run when: `--stages`, else `--users`/`--spawn-rate` (a ramp), else the plan's
 * stages, shape, or users and spawn rate. Flags win over the plan's whole load model.
 */
function resolveProfile(
  options: RunOptions,
  load: LoadSpec,
  kinds: readonly NormalizedUserKind[],
): { profile: LoadProfile; users: number; spawnRate: number } {
  if ((options.arrivalRate ?? load.arrivalRate) !== undefined) {
    return arrivalRunProfile(options, kinds);
  }
  const rampFlags = options.users !== undefined || options.spawnRate !== undefined;
  const stages = options.stages !== undefined
    ? parseStages(options.stages)
    : rampFlags
    ? undefined
    : load.stages;
  if (stages !== undefined) {
    const profile = stagesProfile(stages.map((s) => ({
      durationMs: parseDuration(s.duration, "stage duration"),
      users: s.users,
    })));
    return { profile, users: profile.peak ?? 0, spawnRate: Infinity };
  }
  if (!rampFlags && load.shape !== undefined) {
    return { profile: shapeProfile(load.shape), users: 0, spawnRate: Infinity };
  }
  const users = wholeCount(options.users ?? load.users ?? 1, "users", MAX_USERS);
  const spawnRate = options.spawnRate ?? load.spawnRate ?? Infinity;
  if (!(spawnRate > 0)) {
    throw new UsageError(`Cannot use spawn rate "${spawnRate}": it must be a number > 0`);
  }
  return { profile: rampProfile(users, spawnRate), users, spawnRate };
}

/**
 * With an arrival rate for the whole load, `users` is its pool: the closed-model users are only
 * those of fixed-count kinds, all started at once.
 */
function arrivalRunProfile(
  options: RunOptions,
  kinds: readonly NormalizedUserKind[],
): { profile: LoadProfile; users: number; spawnRate: number } {
  if (options.stages !== undefined || options.spawnRate !== undefined) {
    throw new UsageError(
      `Cannot use ${
        options.stages !== undefined ? "--stages" : "--spawn-rate"
      } with an arrival rate: its users are a pool (--users), its stages are rates (--arrival-rate "30s:100/s,1m:100/s")`,
    );
  }
  const fixed = kinds.reduce((n, k) => n + (k.arrival === undefined ? k.fixed ?? 0 : 0), 0);
  return { profile: rampProfile(fixed, Infinity), users: fixed, spawnRate: Infinity };
}

/** `--stages "30s:50,1m:50,20s:0"`: duration:users pairs, or stages as a plan writes them. */
export function parseStages(input: string | StageSpec[]): StageSpec[] {
  if (typeof input !== "string") return checkStages(input, "stages");
  const stages = input.split(",").map((part) => part.trim()).filter((p) => p !== "").map((part) => {
    const [duration, users, extra] = part.split(":");
    if (extra !== undefined || users === undefined || !/^\d+$/.test(users.trim())) {
      throw new UsageError(
        `Cannot use stages "${input}": each stage is duration:users, such as 30s:50`,
      );
    }
    parseDuration(duration.trim(), `stage "${part}"`);
    return {
      duration: duration.trim(),
      users: wholeCount(Number(users), "stage users", MAX_USERS),
    };
  });
  if (stages.length === 0) {
    throw new UsageError(`Cannot use stages "${input}": give at least one, such as 30s:50`);
  }
  return stages;
}

function resolveSettings(
  plan: Plan,
  planUrl: string | null,
  planCode: string | undefined,
  host: string,
  options: RunOptions,
): RunSettings {
  const load = plan.load ?? {};
  const kinds = userKindsOf(plan);
  const arrivals = resolveArrivals(kinds, load, {
    ...options,
    arrivalRate: options.arrivalRate === undefined
      ? undefined
      : parseArrivalRate(options.arrivalRate),
  });
  const { profile, users, spawnRate } = resolveProfile(options, load, kinds);
  const iterationsInput = options.iterations ?? load.iterations;
  const iterations = iterationsInput === undefined
    ? null
    : wholeCount(iterationsInput, "iterations", MAX_ITERATIONS);
  if (iterations === 0) {
    throw new UsageError("Cannot use iterations 0: the run would start none; give 1 or more");
  }
  const runTimeInput = options.runTime ?? load.duration;
  const runTimeMs = runTimeInput === undefined ? null : parseDuration(runTimeInput, "run time");
  const http = resolveHttp(options, plan, host);
  const defaultWorkers = planUrl ? navigator.hardwareConcurrency || 1 : 0;
  const workers = wholeCount(options.workers ?? defaultWorkers, "workers", MAX_WORKERS);
  if (workers > 0 && !planUrl) {
    throw new UsageError(
      "Cannot run a plan object in Web Workers without its module URL; pass planUrl: import.meta.url or workers: 0",
    );
  }
  const statsIntervalMs = parseDuration(options.statsInterval ?? "1s", "stats interval");
  if (statsIntervalMs < 100 || statsIntervalMs > 3_600_000) {
    throw new UsageError(
      `Cannot use stats interval "${options.statsInterval}": it must be between 100ms and 1h`,
    );
  }
  const percentiles = options.percentiles ?? DEFAULT_PERCENTILES;
  for (const p of percentiles) {
    if (!(p > 0 && p <= 100)) {
      throw new UsageError(`Cannot use percentile "${p}": need 0 < p <= 100`);
    }
  }
  return {
    kinds,
    arrivals,
    iterations,
    planUrl: planUrl ?? "inline:",
    profile,
    users: users + arrivals.reduce((n, a) => n + a.pool, 0),
    spawnRate,
    runTimeMs,
    workers: Math.max(1, workers),
    stopTimeoutMs: parseDuration(options.stopTimeout ?? 0, "stop timeout"),
    loadTimeoutMs: parseDuration(options.loadTimeout ?? DEFAULT_LOAD_TIMEOUT, "load timeout"),
    maxNames: wholeCount(options.maxNames ?? DEFAULT_MAX_NAMES, "max names", MAX_NAMES_LIMIT),
    statsIntervalMs,
    percentiles,
    http,
    transport: transportFor(plan, workers, planCode),
  };
}

/**
 * Where the load workers run: on this thread (0 workers), else in Web Workers, which get a
 * bundled plan as code to evaluate instead of a module to import.
 */
function transportFor(plan: Plan, workers: number, planCode: string | undefined): WorkerTransport {
  if (workers === 0) return inlineTransport(plan);
  return planCode === undefined ? webWorkerTransport : withPlanCode(webWorkerTransport, planCode);
}

/** Creates every plugin's recorder; those made before one fails are stopped again. */
async function createRecorders(
  plugins: RecorderPlugin[],
  options: RunOptions,
  run: RunInfo,
  settings: RunSettings,
): Promise<RecorderSet> {
  const recorderOptions = options.recorderOptions ?? {};
  const stdout = options.stdout ?? fileSink(Deno.stdout);
  const stderr = options.stderr ?? fileSink(Deno.stderr);
  // A recorder that writes records to stdout keeps it: the others write their text to stderr.
  const stdoutOwner = plugins.find((p) => p.ownsStdout?.(recorderOptions));
  const recorders: { id: string; recorder: Recorder }[] = [];
  try {
    for (const plugin of plugins) {
      recorders.push({
        id: plugin.id,
        recorder: await plugin.create({
          run,
          options: recorderOptions,
          percentiles: settings.percentiles,
          statsIntervalMs: settings.statsIntervalMs,
          stdout: stdoutOwner && stdoutOwner !== plugin ? stderr : stdout,
          stderr,
        }),
      });
    }
  } catch (error) {
    // The recorders made so far close what they opened (files, ports) before the error goes up.
    await new RecorderSet(recorders).stop("failed");
    throw error;
  }
  return new RecorderSet(recorders);
}

/**
 * Runs a plan and returns its summary. `plan` is a plan object (from `definePlan`) or the path
 * or URL of a plan module. A plan object runs on the calling thread unless `planUrl` names its
 * module; a module runs in `workers` Web Workers (default: one per core).
 *
 * @example Run a plan module for 10 s with 5 users and read the summary
 * ```ts
 * import { run } from "./mod.ts";
 *
 * const summary = await run("examples/shop.plan.ts", {
 *   users: 5,
 *   runTime: "10s",
 *   host: "http://127.0.0.1:8000",
 *   recorders: [],
 * });
 * console.log(summary.totals.requests, summary.totals.percentiles_ms["95"]);
 * ```
 */
export async function run(plan: Plan | string | URL, options: RunOptions = {}): Promise<Summary> {
  if ((globalThis as Record<symbol, unknown>)[IN_LOAD_WORKER]) {
    throw new RunError(
      "Cannot call run() in the plan module as a load worker loads it; guard it with if (import.meta.main)",
    );
  }
  // Outputs are checked before anything runs: a bad path fails now, not after the run.
  if (options.summaryPath) checkWritable(options.summaryPath, "summary file");
  if (options.distributed && options.workers !== undefined) {
    throw new UsageError(
      "Cannot use --workers with --coordinator: the load runs on the worker processes; give each its own with stampede worker --workers N",
    );
  }
  const distributed = options.distributed ? await resolveDistributed(options.distributed) : null;
  const loadTimeoutMs = parseDuration(options.loadTimeout ?? DEFAULT_LOAD_TIMEOUT, "load timeout");
  const loaded = await loadPlan(plan, options, loadTimeoutMs);
  if (loaded.plan === null) return await stoppedWhileLoading(loaded.planUrl, options);
  const hostInput = options.host ?? loaded.plan.host;
  if (!hostInput) {
    throw new PlanError(
      "Cannot run plan: it has no host; set host in the plan or pass --host http://...",
    );
  }
  const host = checkHost(hostInput, "host");
  const settings = resolveSettings(loaded.plan, loaded.planUrl, loaded.planCode, host, options);
  const data = await loadData(loaded.plan, loaded.planUrl);
  const thresholds = await resolveThresholds(loaded.plan, options);
  const registry = options.registry ?? builtinRegistry();
  options = await withOutputRecorders(options, registry);
  const plugins = await registry.loadAll([
    ...options.recorders ?? ["console"],
    ...(options.junitPath ? [junitRecorder(options.junitPath)] : []),
  ]);
  const metadata: Record<string, string> = {};
  for (const plugin of plugins) {
    Object.assign(metadata, plugin.metadata?.(options.recorderOptions ?? {}));
  }
  const runInfo = createRunInfo({
    testplan: options.testplan ?? loaded.plan.name ?? planName(loaded.planUrl),
    // Every record, metric and log shows the host; its credentials stay with the requests.
    host: redactUrls(host),
    tags: options.tags,
    metadata,
  });
  if (!distributed) {
    return await coordinateRun(plugins, options, runInfo, settings, data, thresholds);
  }
  // A coordinator: the load runs on worker processes, which get the bundled plan and its data.
  const planCode = loaded.planCode ?? "";
  checkPlanSize(settings.planUrl, planCode, data);
  const server = listenForWorkers(distributed, options);
  try {
    const hosts = await server.waitForWorkers(distributed.expectTimeoutMs, options.signal);
    if (hosts === null) return await stoppedWhileLoading(loaded.planUrl, options);
    const transport = new RemoteTransport(hosts, { code: planCode, data });
    const remote = { ...settings, transport, workers: transport.workers };
    return await coordinateRun(plugins, options, runInfo, remote, data, thresholds);
  } finally {
    await server.close();
  }
}

/** Listens for a distributed run's worker processes, saying on stderr who joins. */
function listenForWorkers(settings: DistributedSettings, options: RunOptions): WorkerServer {
  const stderr = options.stderr ?? fileSink(Deno.stderr);
  return WorkerServer.listen({
    ...settings,
    say: (line) => stderr.write(`stampede: ${line}\n`),
  });
}

/** Creates the recorders, runs the coordinator, writes the summary and stops the recorders. */
async function coordinateRun(
  plugins: RecorderPlugin[],
  options: RunOptions,
  runInfo: RunInfo,
  settings: RunSettings,
  data: SharedTable[],
  thresholds: ThresholdEvaluator,
): Promise<Summary> {
  const recorders = await createRecorders(plugins, options, runInfo, settings);
  let outcome: RunOutcome | undefined;
  let written: Summary | undefined;
  try {
    outcome = await coordinate({
      ...settings,
      data,
      thresholds,
      run: runInfo,
      recorders,
      signal: options.signal,
      cutOff: options.cutOff,
    });
    // Written as soon as the final stats are known, before lingers and final exports: a kill
    // during those cannot lose it.
    written = buildSummary(outcome, recorders.problems);
    await saveSummary(options.summaryPath, written);
  } finally {
    // Every recorder flushes and closes, however the run ended. A signal that comes now (the
    // first after a run that ended by itself, else the second) cuts lingering short.
    await recorders.stop(
      outcome?.reason ?? "failed",
      options.signal?.aborted ? options.cutOff : options.signal,
    );
  }
  const summary = buildSummary(outcome, recorders.problems);
  if (summary.problems.length > written.problems.length) {
    await saveSummary(options.summaryPath, summary);
  }
  return summary;
}

/**
 * `csv` and `report` turn their built-in recorders on (issue #15): each is added to the
 * recorders unless already there, and its value is handed to it as the option of that name.
 */
async function withOutputRecorders(
  options: RunOptions,
  registry: RecorderRegistry,
): Promise<RunOptions> {
  const recorders = [...options.recorders ?? ["console"]];
  const recorderOptions = { ...options.recorderOptions };
  for (const id of ["csv", "report"] as const) {
    const value = options[id];
    if (value === undefined || value === "") continue;
    recorderOptions[id] = value;
    const plugin = await registry.load(id);
    if (!recorders.some((r) => r === id || r === plugin)) recorders.push(plugin);
  }
  return { ...options, recorders, recorderOptions };
}

/** The run's name from its plan module's file name. */
function planName(planUrl: string | null): string {
  if (planUrl === null) return "plan";
  const path = new URL(planUrl).pathname;
  return basename(path, extname(path));
}

/** Writes the summary file, if one was asked for; a failure is said, not thrown. */
async function saveSummary(path: string | undefined, summary: Summary): Promise<void> {
  if (!path) return;
  try {
    await writeFileAtomic(path, JSON.stringify(summary, null, 2) + "\n");
  } catch (error) {
    getLogger(["stampede", "summary"]).error("Cannot write summary file {path}: {error}", {
      path: JSON.stringify(path),
      error: describeError(error),
    });
  }
}

/** The summary of a run stopped by a signal while its plan was still loading: nothing ran. */
async function stoppedWhileLoading(planUrl: string | null, options: RunOptions): Promise<Summary> {
  const now = new Date();
  const summary = buildSummary({
    run: createRunInfo({
      testplan: options.testplan ?? planName(planUrl),
      host: redactUrls(options.host ?? ""),
      tags: options.tags,
    }),
    reason: signalReason(options.signal),
    startedAt: now,
    endedAt: now,
    final: {
      users: 0,
      cumulative: new StatsAggregator({}).cumulative(0),
      failures: [],
    },
    workerFailures: [],
  });
  await saveSummary(options.summaryPath, summary);
  return summary;
}
