// stampede's command line: argv and env → options → run → exit code. The only file that exits.
import {
  Command,
  CommanderError,
  InvalidArgumentError,
  Option,
  type OptionValues,
} from "npm:commander@15.1.0";
import { configureSync, type LogLevel, type LogRecord } from "npm:@logtape/logtape@2.4.2";
import { ExitCode, StampedeError, UsageError } from "./core/errors.ts";
import { parseDuration } from "./core/duration.ts";
import { HTTP_ENGINES } from "./core/http/engine.ts";
import { parseBoolean } from "./core/option_values.ts";
import { PLAN_LOADERS } from "./core/plan/plan_loader.ts";
import type { RecorderPlugin } from "./core/recorder/types.ts";
import type { StopReason } from "./core/run_info.ts";
import { fileSink } from "./core/sink.ts";
import { VERSION } from "./core/version.ts";
import { builtinRegistry } from "./recorders/builtin.ts";
import { signalReason } from "./core/run_info.ts";
import type { DistributedOptions } from "./core/run/distributed.ts";
import { connectToCoordinator } from "./core/run/websocket_client.ts";
import { serveAsWorker } from "./core/run/worker_host.ts";
import { compareSummaries, comparisonTable, regressed } from "./core/stats/compare.ts";
import type { Summary } from "./core/stats/summary.ts";
import { readSummaryFile } from "./core/stats/summary_file.ts";
import { run } from "./run.ts";

const stderr = fileSink(Deno.stderr);

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError("expected a whole number >= 0.");
  }
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError("expected a number > 0.");
  }
  return n;
}

function duration(value: string): string {
  try {
    parseDuration(value);
  } catch {
    throw new InvalidArgumentError("expected a duration like 30s, 5m, 1h30m or 250ms.");
  }
  return value;
}

function tag(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const pairs = value.split(",").map((p) => p.trim()).filter((p) => p.length > 0);
  const tags = { ...previous };
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new InvalidArgumentError(`expected key=value, got "${pair}".`);
    tags[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return tags;
}

function percentiles(value: string): number[] {
  const list = value.split(",").map((p) => Number(p.trim()));
  if (list.length === 0 || list.some((p) => !(p > 0 && p <= 100))) {
    throw new InvalidArgumentError("expected numbers 0 < p <= 100 separated by commas.");
  }
  return list;
}

/**
 * A boolean flag's env var, read by hand after parsing: commander turns a boolean on for any
 * value of its env var, "false" too.
 */
interface BooleanEnv {
  attribute: string;
  env: string;
}

/** Adds a boolean option whose env var means what it says; records it in `booleans`. */
function addBooleanOption(
  program: Command,
  booleans: BooleanEnv[],
  flags: string,
  description: string,
  env: string,
): void {
  const option = new Option(flags, `${description} (env: ${env}=true|false)`);
  program.addOption(option);
  booleans.push({ attribute: option.attributeName(), env });
}

const LOG_LEVELS = ["debug", "info", "warning", "error"] as const;

/** The log level asked for, read before parsing so an early error can show its stack. */
function logLevelOf(args: string[]): string | undefined {
  let level = Deno.env.get("STAMPEDE_LOG_LEVEL");
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--log-level" && i + 1 < args.length) level = args[i + 1];
    else if (args[i].startsWith("--log-level=")) level = args[i].slice("--log-level=".length);
  }
  return level;
}

/** The recorder ids asked for, read before parsing so their plugins can add options. */
function recorderSpecs(args: string[]): string[] {
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

/** A flag of the run and its env var; `parse` checks and converts the value. */
interface FlagSpec {
  flags: string;
  help: string;
  env: string;
  parse?: (value: string, previous: unknown) => unknown;
  choices?: readonly string[];
}

/** The run's own flags, in --help order; recorder plugins add theirs after them. */
const RUN_FLAGS: readonly FlagSpec[] = [
  {
    flags: "-u, --users <n>",
    help: "peak number of concurrent users (default: plan's, else 1)",
    env: "STAMPEDE_USERS",
    parse: wholeNumber,
  },
  {
    flags: "-r, --spawn-rate <n>",
    help: "users started per second (default: plan's, else all at once)",
    env: "STAMPEDE_SPAWN_RATE",
    parse: positiveNumber,
  },
  {
    flags: "--stages <list>",
    help:
      'linear ramps one after another, duration:users, e.g. "30s:50,1m:50,20s:0" (instead of --users)',
    env: "STAMPEDE_STAGES",
  },
  {
    flags: "--arrival-rate <rate>",
    help:
      'open model: iterations start at this rate, 200/s or 50/m, or stages "30s:100/s,1m:100/s"; --users is the pool',
    env: "STAMPEDE_ARRIVAL_RATE",
  },
  {
    flags: "--max-users <n>",
    help: "the arrival-rate pool may grow to this many users (default: --users)",
    env: "STAMPEDE_MAX_USERS",
    parse: wholeNumber,
  },
  {
    flags: "--max-lateness <duration>",
    help: "how late an arrival-rate iteration may start before it is dropped (default 1s)",
    env: "STAMPEDE_MAX_LATENESS",
    parse: duration,
  },
  {
    flags: "--iterations <n>",
    help: "end the run after this many iterations (task runs) over every user and worker",
    env: "STAMPEDE_ITERATIONS",
    parse: wholeNumber,
  },
  {
    flags: "-t, --run-time <duration>",
    help: "stop after this long: 30s, 5m, 1h30m (default: plan's, else until Ctrl-C)",
    env: "STAMPEDE_RUN_TIME",
    parse: duration,
  },
  {
    flags: "-H, --host <url>",
    help: "base URL that relative paths resolve against (default: plan's)",
    env: "STAMPEDE_HOST",
  },
  {
    flags: "--workers <n>",
    help: "load workers (Web Workers), 0 = on the main thread (default: one per core)",
    env: "STAMPEDE_WORKERS",
    parse: wholeNumber,
  },
  {
    flags: "--stop-timeout <duration>",
    help: "time running tasks get to finish at the stop (default 0: cut off, counted as aborted)",
    env: "STAMPEDE_STOP_TIMEOUT",
    parse: duration,
  },
  {
    flags: "--load-timeout <duration>",
    help: "time the plan may take to load, here and in each load worker (default 60s)",
    env: "STAMPEDE_LOAD_TIMEOUT",
    parse: duration,
  },
  {
    flags: "--max-names <n>",
    help:
      "distinct request names per method kept as rows; the rest are counted as (other) (default 500)",
    env: "STAMPEDE_MAX_NAMES",
    parse: wholeNumber,
  },
  {
    flags: "--plan-loader <loader>",
    help: "load the plan by import, or bundle it with esbuild (default: bundle when compiled)",
    env: "STAMPEDE_PLAN_LOADER",
    choices: PLAN_LOADERS,
  },
  {
    flags: "--stats-interval <duration>",
    help: "how often workers report and recorders get a snapshot (default 1s)",
    env: "STAMPEDE_STATS_INTERVAL",
    parse: duration,
  },
  {
    flags: "--http-engine <engine>",
    help:
      "HTTP engine of ctx.http: h1 (HTTP/1.1 on Deno.connect) or fetch (default: plan's, else h1)",
    env: "STAMPEDE_HTTP_ENGINE",
    choices: HTTP_ENGINES,
  },
  {
    flags: "--trace-sample-ratio <ratio>",
    help:
      "share of iterations traced and sampled, 0 to 1 (parent-based; default: OTEL_TRACES_SAMPLER, else 1)",
    env: "STAMPEDE_TRACE_SAMPLE_RATIO",
  },
  {
    flags: "--trace-endpoint <url>",
    help:
      "OTLP/HTTP endpoint of the spans; /v1/traces is added unless given (default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318)",
    env: "STAMPEDE_TRACE_ENDPOINT",
  },
  {
    flags: "--trace-state <list>",
    help: "a W3C tracestate sent with every traced request, e.g. vendor=value",
    env: "STAMPEDE_TRACE_STATE",
  },
  {
    flags: "--recorder <ids>",
    help: `recorders, comma-separated: ${
      builtinRegistry().ids.join(", ")
    } or ./my_recorder.ts (default console)`,
    env: "STAMPEDE_RECORDER",
  },
  {
    flags: "--threshold <threshold>",
    help:
      "a service objective (repeatable), k6's language: 'http.duration: p(95)<200', 'http.failures: rate<0.01'; one crossed exits 99",
    env: "STAMPEDE_THRESHOLDS",
    parse: (value, previous) => [
      ...(previous as string[] | undefined ?? []),
      ...value.split(";").map((t) => t.trim()).filter((t) => t !== ""),
    ],
  },
  {
    flags: "--baseline <summary.json>",
    help:
      "the summary of an earlier run, for thresholds such as 'http.duration: p(95) < baseline * 1.10'",
    env: "STAMPEDE_BASELINE",
  },
  {
    flags: "--exit-code-on-error <n>",
    help: "exit code of a run without thresholds that had failed requests (default 1; 0: off)",
    env: "STAMPEDE_EXIT_CODE_ON_ERROR",
    parse: wholeNumber,
  },
  {
    flags: "--junit <path>",
    help: "write JUnit XML (a test case per threshold) to this file at the end",
    env: "STAMPEDE_JUNIT",
  },
  {
    flags: "--summary <path>",
    help: "write the final stats as JSON to this file",
    env: "STAMPEDE_SUMMARY",
  },
  // -- outputs (issue #15): each turns its recorder on without naming it in --recorder.
  {
    flags: "--csv <prefix>",
    help: "write Locust's CSV files: PREFIX_stats.csv, _stats_history.csv, _failures.csv, " +
      "_exceptions.csv",
    env: "STAMPEDE_CSV",
  },
  {
    flags: "--report <path>",
    help: "write an HTML report (one self-contained file, charts included) to this path",
    env: "STAMPEDE_REPORT",
  },
  {
    flags: "--testplan <name>",
    help: "the run's testplan name on every record (default: plan's name)",
    env: "STAMPEDE_TESTPLAN",
  },
  {
    flags: "--tag <key=value>",
    help: "tag every record; repeatable or comma-separated",
    env: "STAMPEDE_TAGS",
    parse: (value, previous) => tag(value, previous as Record<string, string> | undefined),
  },
  {
    flags: "--percentiles <list>",
    help: "percentiles that recorders report (default 50,90,95,99,99.9)",
    env: "STAMPEDE_PERCENTILES",
    parse: percentiles,
  },
  {
    flags: "--log-level <level>",
    help: "log level on stderr; debug adds stack traces (default warning)",
    env: "STAMPEDE_LOG_LEVEL",
    choices: LOG_LEVELS,
  },
  // A distributed run (with --coordinator): where workers join and what they need.
  {
    flags: "--listen <host:port>",
    help:
      "with --coordinator: where worker processes connect (default 127.0.0.1:7400, this machine only; 0.0.0.0:7400 for every interface)",
    env: "STAMPEDE_LISTEN",
  },
  {
    flags: "--expect-workers <n>",
    help: "with --coordinator: worker processes to wait for; the run starts when all joined",
    env: "STAMPEDE_EXPECT_WORKERS",
    parse: wholeNumber,
  },
  {
    flags: "--expect-timeout <duration>",
    help: "with --coordinator: how long to wait for them (default 60s)",
    env: "STAMPEDE_EXPECT_TIMEOUT",
    parse: duration,
  },
  {
    flags: "--token <token>",
    help: "with --coordinator: the secret every worker must present (required)",
    env: "STAMPEDE_TOKEN",
  },
  {
    flags: "--tls-cert <path>",
    help: "with --coordinator: PEM certificate chain; workers then connect with wss://",
    env: "STAMPEDE_TLS_CERT",
  },
  {
    flags: "--tls-key <path>",
    help: "with --coordinator: the PEM private key of --tls-cert",
    env: "STAMPEDE_TLS_KEY",
  },
  {
    flags: "--heartbeat-timeout <duration>",
    help:
      "with --coordinator: a worker process silent this long is lost, its users move (default 10s)",
    env: "STAMPEDE_HEARTBEAT_TIMEOUT",
    parse: duration,
  },
];

/** Flags that mean something only with --coordinator (the token may sit in a shared env). */
const COORDINATOR_FLAGS = [
  "listen",
  "expectWorkers",
  "expectTimeout",
  "tlsCert",
  "tlsKey",
  "heartbeatTimeout",
] as const;

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

function configureLogging(level: LogLevel): void {
  configureSync({
    reset: true,
    sinks: {
      // -- outputs (issue #15): on a terminal, clear the console's live line first, so a warning
      // stands on its own line (the live view is drawn again below it).
      stderr: (record: LogRecord) =>
        stderr.write(
          `${stderr.isTerminal ? "\r\x1b[2K" : ""}stampede: ${record.level}: ${
            record.message.map(String).join("")
          }\n`,
        ),
    },
    loggers: [
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: ["stderr"] },
      { category: ["stampede"], lowestLevel: level, sinks: ["stderr"] },
    ],
  });
}

/**
 * The exit code of a finished run. A signal that came after the run itself ended (while
 * recorders lingered or exported) still says the process was stopped by it.
 */
function exitCodeOf(summary: Summary, signal: AbortSignal, exitCodeOnError: number): number {
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
function parseArgs(
  args: string[],
  plugins: RecorderPlugin[],
): { planPath: string; opts: OptionValues } | null {
  const { program, booleans } = buildProgram(plugins);
  program.configureOutput({
    writeOut: (text) => fileSink(Deno.stdout).write(text),
    writeErr: () => {},
  });
  try {
    program.parse(args, { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) return null; // --help, --version
    const message = error.message.replace(/^error: /, "").replace(/\n/g, " ").trim();
    throw new UsageError(`${message}; see --help`);
  }
  for (const { attribute, env } of booleans) {
    if (program.getOptionValueSource(attribute) === "cli") continue;
    const value = parseBoolean(Deno.env.get(env), env);
    if (value !== undefined) program.setOptionValueWithSource(attribute, value, "env");
  }
  return { planPath: program.args[0], opts: program.opts() };
}

/**
 * SIGINT and SIGTERM: the first stops gracefully (running tasks get --stop-timeout); a second
 * cuts them off at once. Either way the final stats, records and summary are written.
 */
function listenForSignals(): { signal: AbortSignal; cutOff: AbortSignal; close(): void } {
  const stop = new AbortController();
  const cutOff = new AbortController();
  const onSignal = (reason: string) => () => {
    const name = reason === "terminated" ? "SIGTERM" : "SIGINT";
    if (!stop.signal.aborted) {
      stderr.write(`\nstampede: ${name}: stopping (again to cut running tasks off)...\n`);
      stop.abort(reason);
    } else if (!cutOff.signal.aborted) {
      stderr.write(`\nstampede: ${name} again: cutting running tasks off...\n`);
      cutOff.abort();
    }
  };
  const sigint = onSignal("interrupted");
  const sigterm = onSignal("terminated");
  const withTerm = Deno.build.os !== "windows";
  Deno.addSignalListener("SIGINT", sigint);
  if (withTerm) Deno.addSignalListener("SIGTERM", sigterm);
  return {
    signal: stop.signal,
    cutOff: cutOff.signal,
    close() {
      Deno.removeSignalListener("SIGINT", sigint);
      if (withTerm) Deno.removeSignalListener("SIGTERM", sigterm);
    },
  };
}

/** A tolerance as `10%` or `0.1`. */
function tolerance(value: string): number {
  const percent = value.trim().endsWith("%");
  const n = Number(percent ? value.trim().slice(0, -1) : value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError("expected a tolerance such as 10% or 0.1.");
  }
  return percent ? n / 100 : n;
}

/** `stampede compare BASE.json NEW.json [--tolerance 10%]`: exits 99 when NEW regressed. */
async function compare(args: string[]): Promise<number> {
  const program = new Command("stampede compare")
    .description(
      "Compare two runs' summaries (--summary) endpoint by endpoint: throughput, failure rate and\n" +
        "p50/p95/p99 (exact from their HDR histograms). Exits 99 when NEW is worse than BASE by\n" +
        "more than the tolerance (latency up, throughput down; failure rate up by 1 point).",
    )
    .argument("<base>", "the summary of the baseline run")
    .argument("<new>", "the summary of the run to judge")
    .addOption(
      new Option("--tolerance <fraction>", "allowed change: 10% or 0.1 (default 10%)")
        .argParser(tolerance).default(0.1),
    )
    .helpOption("-h, --help", "show this help")
    .exitOverride();
  program.configureOutput({
    writeOut: (text) => fileSink(Deno.stdout).write(text),
    writeErr: () => {},
  });
  try {
    program.parse(args, { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) return ExitCode.ok;
    throw new UsageError(`${error.message.replace(/^error: /, "").trim()}; see compare --help`);
  }
  const [basePath, currentPath] = program.args;
  const base = await readSummaryFile(basePath, "baseline summary");
  const current = await readSummaryFile(currentPath, "summary");
  const rows = compareSummaries(base, current, program.opts().tolerance);
  const out = fileSink(Deno.stdout);
  out.write(
    `Comparing ${base.testplan} ${base.started_at} (base) with ${current.testplan} ${current.started_at}\n` +
      comparisonTable(rows) + "\n",
  );
  if (!regressed(rows)) {
    out.write("No change beyond the tolerance.\n");
    return ExitCode.ok;
  }
  out.write("Regressed beyond the tolerance (marked !).\n");
  return ExitCode.threshold;
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

/** The first SIGINT or SIGTERM aborts (reason `interrupted` or `terminated`). */
function abortOnSignal(): { signal: AbortSignal; close(): void } {
  const stop = new AbortController();
  const listeners: [Deno.Signal, () => void][] = [
    ["SIGINT", () => stop.abort("interrupted")],
    ...(Deno.build.os === "windows"
      ? []
      : [["SIGTERM", () => stop.abort("terminated")] as [Deno.Signal, () => void]]),
  ];
  for (const [name, listener] of listeners) Deno.addSignalListener(name, listener);
  return {
    signal: stop.signal,
    close: () => {
      for (const [name, listener] of listeners) Deno.removeSignalListener(name, listener);
    },
  };
}

/** A worker process's name in records: letters, digits, `.`, `_` and `-`. */
function workerName(value: string): string {
  if (!/^[A-Za-z0-9._-]{1,63}$/.test(value) || /^(coordinator|worker-\d+)$/.test(value)) {
    throw new InvalidArgumentError(
      "expected 1 to 63 letters, digits, '.', '_' or '-', other than coordinator or worker-N.",
    );
  }
  return value;
}

/** `stampede worker`'s flags and their variables, parsed; null for --help. */
function parseWorkerArgs(args: string[]): OptionValues | null {
  const booleans: BooleanEnv[] = [];
  const program = new Command("stampede worker")
    .description(
      "Join a coordinator (stampede PLAN --coordinator) and make load for it:\n" +
        "runs its own load workers (Web Workers), gets the plan from the coordinator,\n" +
        "sends heartbeats from a thread the load cannot starve, and exits when the\n" +
        "run is over (0) or the coordinator is gone (4).",
    )
    .addOption(
      new Option("--connect <url>", "the coordinator: ws://HOST:PORT, or wss:// when it serves TLS")
        .env("STAMPEDE_CONNECT"),
    )
    .addOption(
      new Option("--token <token>", "the run's secret, as the coordinator has it").env(
        "STAMPEDE_TOKEN",
      ),
    )
    .addOption(
      new Option(
        "--workers <n>",
        "load workers (Web Workers) in this process (default: one per core)",
      )
        .env("STAMPEDE_WORKERS").argParser(wholeNumber),
    )
    .addOption(
      new Option("--name <name>", "its name in records (default: this machine's host name)")
        .env("STAMPEDE_WORKER_NAME").argParser(workerName),
    )
    .addOption(
      new Option("--tls-ca <path>", "PEM file of the CA that signed the coordinator's certificate")
        .env("STAMPEDE_TLS_CA"),
    )
    .addOption(
      new Option(
        "--connect-timeout <duration>",
        "how long to keep trying while nothing answers at --connect (default 60s)",
      ).env("STAMPEDE_CONNECT_TIMEOUT").argParser(duration),
    )
    .addOption(
      new Option("--log-level <level>", "log level on stderr (default warning)")
        .env("STAMPEDE_LOG_LEVEL").choices(LOG_LEVELS),
    )
    .helpOption("-h, --help", "show this help")
    .exitOverride();
  addBooleanOption(
    program,
    booleans,
    "--insecure",
    "do not check the coordinator's TLS certificate",
    "STAMPEDE_INSECURE",
  );
  program.configureOutput({
    writeOut: (text) => fileSink(Deno.stdout).write(text),
    writeErr: () => {},
  });
  try {
    program.parse(args, { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) return null;
    const message = error.message.replace(/^error: /, "").replace(/\n/g, " ").trim();
    throw new UsageError(`${message}; see worker --help`);
  }
  for (const { attribute, env } of booleans) {
    if (program.getOptionValueSource(attribute) === "cli") continue;
    const value = parseBoolean(Deno.env.get(env), env);
    if (value !== undefined) program.setOptionValueWithSource(attribute, value, "env");
  }
  return program.opts();
}

/**
 * `stampede worker --connect URL`: joins a coordinator, runs its load workers and relays their
 * stats until the run is over; exits 0 then, 4 when refused or the coordinator is gone.
 */
async function worker(args: string[]): Promise<number> {
  const opts = parseWorkerArgs(args);
  if (opts === null) return ExitCode.ok;
  configureLogging((opts.logLevel ?? "warning") as LogLevel);
  const url = opts.connect as string | undefined;
  if (!url || !/^wss?:\/\/[^/]/.test(url)) {
    throw new UsageError(
      `Cannot join a coordinator at "${
        url ?? ""
      }": give --connect ws://HOST:PORT (wss:// when it serves TLS)`,
    );
  }
  const workers = opts.workers ?? (navigator.hardwareConcurrency || 1);
  if (workers < 1 || workers > 1024) {
    throw new UsageError(`Cannot use --workers "${workers}": it must be from 1 to 1024`);
  }
  let caCerts: string[] | undefined;
  if (opts.tlsCa) {
    try {
      caCerts = [await Deno.readTextFile(opts.tlsCa)];
    } catch (error) {
      throw new UsageError(`Cannot read TLS CA "${opts.tlsCa}": ${(error as Error).message}`);
    }
  }
  const say = (line: string) => stderr.write(`stampede worker: ${line}\n`);
  const signals = abortOnSignal();
  try {
    const socket = await connectToCoordinator(
      url,
      { token: opts.token ?? "", caCerts, insecure: opts.insecure },
      { timeoutMs: parseDuration(opts.connectTimeout ?? "60s"), say, signal: signals.signal },
    );
    const outcome = socket === null
      ? signals.signal.reason as "interrupted" | "terminated"
      : await serveAsWorker(socket, {
        url,
        workers,
        name: opts.name ?? Deno.hostname(),
        say,
        signal: signals.signal,
      });
    if (outcome === "completed") return ExitCode.ok;
    return outcome === "terminated" ? ExitCode.terminated : ExitCode.interrupted;
  } finally {
    signals.close();
  }
}

async function main(args: string[]): Promise<number> {
  let debug = logLevelOf(args) === "debug";
  try {
    if (args[0] === "compare") return await compare(args.slice(1));
    if (args[0] === "worker") return await worker(args.slice(1));
    const plugins = await builtinRegistry().loadAll(recorderSpecs(args));
    const parsed = parseArgs(args, plugins);
    if (parsed === null) return ExitCode.ok;
    const opts = parsed.opts;
    const level = (opts.logLevel ?? "warning") as LogLevel;
    debug = level === "debug";
    configureLogging(level);
    const signals = listenForSignals();
    try {
      const summary = await run(parsed.planPath, {
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
      });
      return exitCodeOf(summary, signals.signal, opts.exitCodeOnError ?? ExitCode.failures);
    } finally {
      signals.close();
    }
  } catch (error) {
    if (error instanceof StampedeError) {
      stderr.write(`stampede: error: ${error.message}\n`);
      if (debug && error.cause) stderr.write(`${(error.cause as Error).stack ?? error.cause}\n`);
      return error.exitCode;
    }
    stderr.write(`stampede: internal error: ${error instanceof Error ? error.message : error}\n`);
    if (debug && error instanceof Error) stderr.write(`${error.stack}\n`);
    return ExitCode.internal;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
