// The run command's argv: the recorders asked for (read first, so their plugins add flags), the
// program with every flag, its parse, and the run's options and exit code from them.
import { Command, Option, type OptionValues } from "npm:commander@15.1.0";
import { ExitCode, UsageError } from "../core/errors.ts";
import type { RecorderPlugin } from "../core/recorder/types.ts";
import { signalReason, type StopReason } from "../core/run_info.ts";
import type { DistributedOptions } from "../core/run/distributed.ts";
import type { Summary } from "../core/stats/summary.ts";
import { VERSION } from "../core/version.ts";
import type { RunOptions } from "../run.ts";
import { addBooleanOption, type BooleanEnv, parseProgram } from "./program.ts";
import { COORDINATOR_FLAGS, RUN_FLAGS } from "./run_flags.ts";

/** The log level asked for, read before parsing so an early error can show its stack. */
export function logLevelOf(args: string[]): string | undefined {
  let level = Deno.env.get("STAMPEDE_LOG_LEVEL");
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--log-level" && i + 1 < args.length) level = args[i + 1];
    else if (args[i].startsWith("--log-level=")) level = args[i].slice("--log-level=".length);
  }
  return level;
}

/** The recorder ids asked for, read before parsing so their plugins can add options. */
export function recorderSpecs(args: string[]): string[] {
  let value = Deno.env.get("STAMPEDE_RECORDER") ?? "console";
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--recorder" && i + 1 < args.length) value = args[i + 1];
    else if (args[i].startsWith("--recorder=")) value = args[i].slice("--recorder=".length);
  }
  const specs = value.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  // -- outputs (issue #15): --csv and --report turn their recorders on; loaded here too, so
  // their own options (--csv-full-history) parse.
  for (const [id, env] of [["csv", "STAMPEDE_CSV"], ["report", "STAMPEDE_REPORT"]]) {
    const given = Deno.env.get(env) ||
      args.some((a) => a === `--${id}` || a.startsWith(`--${id}=`));
    if (given && !specs.includes(id)) specs.push(id);
  }
  return specs;
}

const HELP_AFTER = `
Examples:
  deno run -A cli.ts examples/shop.plan.ts --host http://127.0.0.1:8000 -u 50 -r 10 -t 1m
  deno run -A cli.ts plan.ts --threshold 'http.duration: p(95)<200' --junit results.xml
  deno run -A cli.ts compare base.json new.json     (compare two runs' --summary files)
  deno run -A cli.ts plan.ts --coordinator --listen 0.0.0.0:7400 --expect-workers 3 --token $T
  deno run -A cli.ts worker --connect ws://COORDINATOR:7400 --token $T    (on each machine)
  STAMPEDE_USERS=200 deno run -A cli.ts plan.ts --workers 4 --summary summary.json

Exit codes: 0 completed (every threshold held), 1 failed requests in a run without
thresholds (--exit-code-on-error) or an internal error, 2 bad flag or value, 3 bad plan,
4 a load worker failed or was lost, 99 a threshold was crossed, 130 stopped by SIGINT,
143 stopped by SIGTERM.`;

function buildProgram(plugins: RecorderPlugin[]): { program: Command; booleans: BooleanEnv[] } {
  const booleans: BooleanEnv[] = [];
  const program = new Command("stampede")
    .description(
      "Run a load test plan: virtual users in Web Workers, exact HDR latency stats,\n" +
        "telemetry through recorders. Every flag can also be set as STAMPEDE_<FLAG>\n" +
        "(e.g. STAMPEDE_USERS=50); a flag wins over its env var, which wins over the plan.",
    )
    .argument(
      "<plan>",
      "path of the plan module (a .ts file whose default export is definePlan({...}))",
    )
    .version(VERSION, "-V, --version", "print the version and exit")
    .helpOption("-h, --help", "show this help")
    .addHelpText("after", HELP_AFTER)
    .showSuggestionAfterError(true)
    .exitOverride();
  for (const spec of RUN_FLAGS) {
    const option = new Option(spec.flags, spec.help).env(spec.env);
    if (spec.parse) option.argParser(spec.parse);
    if (spec.choices) option.choices(spec.choices);
    program.addOption(option);
  }
  addBooleanOption(
    program,
    booleans,
    "--traces",
    "trace every request: W3C traceparent, client spans over OTLP, exemplars (or OTEL_TRACES_EXPORTER=otlp)",
    "STAMPEDE_TRACES",
  );
  addBooleanOption(
    program,
    booleans,
    "--insecure",
    "skip TLS certificate checks (self-signed targets; h1 engine)",
    "STAMPEDE_INSECURE",
  );
  addBooleanOption(
    program,
    booleans,
    "--coordinator",
    "run no load here: wait for --expect-workers worker processes (stampede worker) and lead them",
    "STAMPEDE_COORDINATOR",
  );
  for (const plugin of plugins) {
    for (const option of plugin.options ?? []) {
      const description = `[${plugin.id}] ${option.description}`;
      const isBoolean = !/[<[]/.test(option.flags);
      if (isBoolean && option.env) {
        addBooleanOption(program, booleans, option.flags, description, option.env);
        continue;
      }
      const o = new Option(option.flags, description);
      if (option.env) o.env(option.env);
      if (option.default !== undefined) o.default(option.default);
      program.addOption(o);
    }
  }
  return { program, booleans };
}

/**
 * The exit code of a finished run. A signal that came after the run itself ended (while
 * recorders lingered or exported) still says the process was stopped by it.
 */
export function exitCodeOf(summary: Summary, signal: AbortSignal, exitCodeOnError: number): number {
  let reason: StopReason = summary.stop_reason;
  if (reason === "failed" || summary.workers_failed > 0 || summary.workers_lost > 0) {
    return ExitCode.run;
  }
  if (signal.aborted && reason !== "interrupted" && reason !== "terminated") {
    reason = signalReason(signal);
  }
  if (reason === "interrupted") return ExitCode.interrupted;
  if (reason === "terminated") return ExitCode.terminated;
  // Thresholds are the verdict when a run has them; without, failed requests are (Locust's rule).
  if (summary.thresholds.length > 0) {
    return summary.thresholds.every((t) => t.ok) ? ExitCode.ok : ExitCode.threshold;
  }
  return summary.totals.failures > 0 ? exitCodeOnError : ExitCode.ok;
}

/** Parses argv (and the env vars of boolean flags, read by hand: commander takes any value as on). */
export function parseArgs(
  args: string[],
  plugins: RecorderPlugin[],
): { planPath: string; opts: OptionValues } | null {
  const { program, booleans } = buildProgram(plugins);
  if (!parseProgram(program, args, booleans, "see --help")) return null;
  return { planPath: program.args[0], opts: program.opts() };
}

/** The coordinator's options of a distributed run, or undefined without --coordinator. */
function distributedOf(opts: OptionValues): DistributedOptions | undefined {
  if (!opts.coordinator) {
    const stray = COORDINATOR_FLAGS.find((name) => opts[name] !== undefined);
    if (stray) {
      const flag = `--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      throw new UsageError(`Cannot use ${flag} without --coordinator`);
    }
    return undefined;
  }
  if (opts.expectWorkers === undefined) {
    throw new UsageError(
      "Cannot run as coordinator: say how many worker processes to wait for with --expect-workers N",
    );
  }
  return {
    listen: opts.listen,
    expectWorkers: opts.expectWorkers,
    expectTimeout: opts.expectTimeout,
    token: opts.token,
    tlsCert: opts.tlsCert,
    tlsKey: opts.tlsKey,
    heartbeatTimeout: opts.heartbeatTimeout,
  };
}

/** The options of `run()` from the parsed flags, the recorders' plugins and the signals. */
export function runOptionsOf(
  opts: OptionValues,
  plugins: RecorderPlugin[],
  signals: { signal: AbortSignal; cutOff: AbortSignal },
): RunOptions {
  return {
    users: opts.users,
    spawnRate: opts.spawnRate,
    stages: opts.stages,
    arrivalRate: opts.arrivalRate,
    maxUsers: opts.maxUsers,
    maxLateness: opts.maxLateness,
    iterations: opts.iterations,
    runTime: opts.runTime,
    host: opts.host,
    workers: opts.workers,
    stopTimeout: opts.stopTimeout,
    loadTimeout: opts.loadTimeout,
    maxNames: opts.maxNames,
    thresholds: opts.threshold,
    baseline: opts.baseline,
    junitPath: opts.junit,
    planLoader: opts.planLoader,
    statsInterval: opts.statsInterval,
    recorders: plugins,
    recorderOptions: opts,
    summaryPath: opts.summary,
    csv: opts.csv, // -- outputs (issue #15)
    report: opts.report, // -- outputs (issue #15)
    testplan: opts.testplan,
    tags: opts.tag,
    percentiles: opts.percentiles,
    httpEngine: opts.httpEngine,
    insecure: opts.insecure,
    distributed: distributedOf(opts),
    traces: opts.traces,
    traceSampleRatio: opts.traceSampleRatio,
    traceEndpoint: opts.traceEndpoint,
    traceState: opts.traceState,
    signal: signals.signal,
    cutOff: signals.cutOff,
  };
}
