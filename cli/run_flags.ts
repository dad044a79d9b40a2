// The run's flags: each with its env var, help line and the parser of its value, in --help
// order. A table, so that a flag is added in one place.
import { HTTP_ENGINES } from "../core/http/engine.ts";
import { PLAN_LOADERS } from "../core/plan/plan_loader.ts";
import { builtinRegistry } from "../recorders/builtin.ts";
import { LOG_LEVELS } from "./program.ts";
import { duration, percentiles, positiveNumber, tag, wholeNumber } from "./values.ts";

/** A flag of the run and its env var; `parse` checks and converts the value. */
export interface FlagSpec {
  flags: string;
  help: string;
  env: string;
  parse?: (value: string, previous: unknown) => unknown;
  choices?: readonly string[];
}

/** The run's own flags, in --help order; recorder plugins add theirs after them. */
export const RUN_FLAGS: readonly FlagSpec[] = [
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
export const COORDINATOR_FLAGS = [
  "listen",
  "expectWorkers",
  "expectTimeout",
  "tlsCert",
  "tlsKey",
  "heartbeatTimeout",
] as const;
