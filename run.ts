// The composition root shared by cli.ts and mod.ts: resolves every setting once (core/config/),
// owns the recorder set from creation to stop, and runs the coordinator.
import { getLogger } from "npm:@logtape/logtape@2.4.2";
import { parseDuration } from "./core/duration.ts";
import { describeError, PlanError, RunError, UsageError } from "./core/errors.ts";
import { checkHost, type Plan } from "./core/plan/plan.ts";
import type { RecorderRegistry } from "./core/recorder/registry.ts";
import { RecorderSet } from "./core/recorder/recorder_set.ts";
import type { Recorder, RecorderPlugin } from "./core/recorder/types.ts";
import { createRunInfo, type RunInfo, signalReason } from "./core/run_info.ts";
import { coordinate, type RunOutcome } from "./core/run/coordinator.ts";
import type { SharedTable } from "./core/run/data_table.ts";
import {
  checkPlanSize,
  type DistributedSettings,
  resolveDistributed,
} from "./core/run/distributed.ts";
import { RemoteTransport } from "./core/run/remote_transport.ts";
import { WorkerServer } from "./core/run/worker_server.ts";
import { IN_LOAD_WORKER } from "./core/run/load_worker.ts";
import { redactUrls } from "./core/redact.ts";
import { checkWritable, fileSink, writeFileAtomic } from "./core/sink.ts";
import { StatsAggregator } from "./core/stats/aggregator.ts";
import type { ThresholdEvaluator } from "./core/stats/thresholds.ts";
import { buildSummary, type Summary } from "./core/stats/summary.ts";
import { checkTracestate } from "./core/http/trace_context.ts";
import type { TraceSettings } from "./core/span_sink.ts";
import { loadData, loadPlan, planName } from "./core/config/plan_source.ts";
import type { RunOptions } from "./core/config/run_options.ts";
import {
  DEFAULT_LOAD_TIMEOUT,
  resolveSettings,
  resolveThresholds,
  type RunSettings,
} from "./core/config/settings.ts";
import { builtinRegistry } from "./recorders/builtin.ts";
import { junitRecorder } from "./recorders/junit.ts";
import { resolveTraceConfig } from "./recorders/otel/trace_config.ts";

export type { RunOptions } from "./core/config/run_options.ts";
export { planUrlOf } from "./core/config/plan_source.ts";
export { parseStages } from "./core/config/load_model.ts";
export { DEFAULT_LOAD_TIMEOUT } from "./core/config/settings.ts";

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
  const settings = resolveSettings(
    loaded.plan,
    loaded.planUrl,
    loaded.planCode,
    host,
    options,
    resolveTraces,
  );
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
