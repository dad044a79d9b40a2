// The composition root shared by cli.ts and mod.ts: resolves options, loads recorders and runs.
import { basename, extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { coordinate, inlineWorkerFactory, webWorkerFactory } from "./core/run/coordinator.ts";
import { parseDuration } from "./core/duration.ts";
import { PlanError, UsageError } from "./core/errors.ts";
import {
  DEFAULT_HTTP_ENGINE,
  HTTP_ENGINES,
  type HttpEngineName,
  type HttpEngineOptions,
} from "./core/http/engine.ts";
import { importPlan } from "./core/run/load_worker.ts";
import { checkHost, isPlan, type Plan } from "./core/plan/plan.ts";
import {
  type Recorder,
  type RecorderPlugin,
  type RecorderRegistry,
  RecorderSet,
  type TextSink,
} from "./core/recorder/recorder.ts";
import { createRunInfo } from "./core/run_info.ts";
import { DEFAULT_PERCENTILES } from "./core/stats/aggregator.ts";
import { buildSummary, type Summary } from "./core/stats/summary.ts";
import { builtinRegistry } from "./recorders/builtin.ts";

/** Options of {@link run}; each one wins over the plan's own `load`, `host` and `name`. */
export interface RunOptions {
  /** Peak concurrent users (default: the plan's, else 1). */
  users?: number;
  /** Users started per second (default: the plan's, else all at once). */
  spawnRate?: number;
  /** Run time: `30s`, `5m`, `1h30m` or seconds (default: the plan's, else until stopped). */
  runTime?: string | number;
  /** Target base URL (default: the plan's). */
  host?: string;
  /** Load workers (Web Workers); 0 runs users on the calling thread. */
  workers?: number;
  /** Time in-flight tasks get after the stop (default 0: cut off and counted as aborted). */
  stopTimeout?: string | number;
  /** How often workers report and recorders get a snapshot (default 1 s). */
  statsInterval?: string | number;
  /** Recorders: built-in ids, module paths or plugin objects (default `["console"]`). */
  recorders?: (string | RecorderPlugin)[];
  /** Options of the recorder plugins by camelCase name (`jsonFile`). */
  recorderOptions?: Record<string, unknown>;
  /** Writes the summary JSON to this path. */
  summaryPath?: string;
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
}

/** A sink writing to a Deno file such as `Deno.stdout`. */
export function fileSink(
  file: { writeSync(p: Uint8Array): number; isTerminal(): boolean },
): TextSink {
  const encoder = new TextEncoder();
  return {
    isTerminal: file.isTerminal(),
    write(text: string) {
      const bytes = encoder.encode(text);
      let written = 0;
      while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
    },
  };
}

/** Resolves a plan path or URL against the working directory. */
export function planUrlOf(path: string | URL): string {
  if (path instanceof URL) return path.href;
  return /^(file|https?):/.test(path) ? path : pathToFileURL(resolve(path)).href;
}

function nonNegative(value: number, what: string): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new UsageError(`Cannot use ${what} "${value}": it must be a number >= 0`);
  }
  return value;
}

/** Resolves the HTTP engine options: run options win over the plan's `http`. */
function resolveHttpOptions(options: RunOptions, plan: Plan): Required<HttpEngineOptions> {
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
  return { engine, insecure };
}

/**
 * Runs a plan and returns its summary. `plan` is a plan object (from `definePlan`) or the path
 * or URL of a plan module. A plan object runs on the calling thread unless `planUrl` names its
 * module; a module runs in `workers` Web Workers (default: one per core).
 */
export async function run(plan: Plan | string | URL, options: RunOptions = {}): Promise<Summary> {
  let planObject: Plan;
  let planUrl: string | null = null;
  if (isPlan(plan)) {
    planObject = plan;
    if (options.planUrl) planUrl = planUrlOf(options.planUrl);
  } else if (typeof plan === "string" || plan instanceof URL) {
    planUrl = planUrlOf(plan);
    planObject = await importPlan(planUrl);
  } else {
    throw new PlanError("Cannot run plan: pass definePlan({...}) or the path of a plan module");
  }

  const load = planObject.load ?? {};
  const users = nonNegative(options.users ?? load.users ?? 1, "users");
  const spawnRate = options.spawnRate ?? load.spawnRate ?? Infinity;
  if (!(spawnRate > 0)) {
    throw new UsageError(`Cannot use spawn rate "${spawnRate}": it must be a number > 0`);
  }
  const runTimeInput = options.runTime ?? load.duration;
  const runTimeMs = runTimeInput === undefined ? null : parseDuration(runTimeInput, "run time");
  const hostInput = options.host ?? planObject.host;
  if (!hostInput) {
    throw new PlanError(
      "Cannot run plan: it has no host; set host in the plan or pass --host http://...",
    );
  }
  const host = checkHost(hostInput, "host");
  const http = resolveHttpOptions(options, planObject);
  const defaultWorkers = planUrl ? navigator.hardwareConcurrency || 1 : 0;
  const workers = nonNegative(options.workers ?? defaultWorkers, "workers");
  if (!Number.isInteger(workers)) {
    throw new UsageError(`Cannot use workers "${workers}": need a whole number`);
  }
  if (workers > 0 && !planUrl) {
    throw new UsageError(
      "Cannot run a plan object in Web Workers without its module URL; pass planUrl: import.meta.url or workers: 0",
    );
  }
  const stopTimeoutMs = parseDuration(options.stopTimeout ?? 0, "stop timeout");
  const statsIntervalMs = parseDuration(options.statsInterval ?? "1s", "stats interval");
  if (statsIntervalMs < 100) {
    throw new UsageError(
      `Cannot use stats interval "${options.statsInterval}": it must be >= 100ms`,
    );
  }
  const percentiles = options.percentiles ?? DEFAULT_PERCENTILES;
  for (const p of percentiles) {
    if (!(p > 0 && p <= 100)) {
      throw new UsageError(`Cannot use percentile "${p}": need 0 < p <= 100`);
    }
  }

  const registry = options.registry ?? builtinRegistry();
  const plugins: RecorderPlugin[] = [];
  for (const spec of options.recorders ?? ["console"]) {
    plugins.push(typeof spec === "string" ? await registry.load(spec) : spec);
  }
  const recorderOptions = options.recorderOptions ?? {};
  const metadata: Record<string, string> = {};
  for (const plugin of plugins) Object.assign(metadata, plugin.metadata?.(recorderOptions));
  const testplan = options.testplan ?? planObject.name ??
    (planUrl ? basename(new URL(planUrl).pathname, extname(new URL(planUrl).pathname)) : "plan");
  const runInfo = createRunInfo({ testplan, host, tags: options.tags, metadata });
  const stdout = options.stdout ?? fileSink(Deno.stdout);
  const stderr = options.stderr ?? fileSink(Deno.stderr);
  const recorders: { id: string; recorder: Recorder }[] = [];
  // A recorder that writes records to stdout keeps it: the others write their text to stderr.
  const stdoutOwner = plugins.find((p) => p.ownsStdout?.(recorderOptions));
  try {
    for (const plugin of plugins) {
      const context = {
        run: runInfo,
        options: recorderOptions,
        percentiles,
        statsIntervalMs,
        stdout: stdoutOwner && stdoutOwner !== plugin ? stderr : stdout,
        stderr,
      };
      recorders.push({ id: plugin.id, recorder: await plugin.create(context) });
    }
  } catch (error) {
    // The recorders made so far close what they opened (files, ports) before the error goes up.
    await new RecorderSet(recorders).stop("failed");
    throw error;
  }
  const recorderSet = new RecorderSet(recorders);

  let outcome;
  try {
    outcome = await coordinate({
      plan: planObject,
      planUrl: planUrl ?? "inline:",
      run: runInfo,
      users,
      spawnRate,
      runTimeMs,
      workers: Math.max(1, workers),
      stopTimeoutMs,
      statsIntervalMs,
      percentiles,
      recorders: recorderSet,
      http,
      createWorker: workers === 0 ? inlineWorkerFactory(planObject) : webWorkerFactory,
      signal: options.signal,
      cutOff: options.cutOff,
    });
  } catch (error) {
    await recorderSet.stop("failed");
    throw error;
  }
  const summary = buildSummary(outcome, recorderSet.problems);
  if (options.summaryPath) {
    await Deno.writeTextFile(options.summaryPath, JSON.stringify(summary, null, 2) + "\n");
  }
  return summary;
}
