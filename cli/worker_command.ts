// `stampede worker`: a worker process of a distributed run, which joins a coordinator and
// makes load for it.
import { Command, Option, type OptionValues } from "npm:commander@15.1.0";
import type { LogLevel } from "npm:@logtape/logtape@2.4.2";
import { parseDuration } from "../core/duration.ts";
import { ExitCode, UsageError } from "../core/errors.ts";
import { fileSink } from "../core/sink.ts";
import { connectToCoordinator } from "../core/run/websocket_client.ts";
import { serveAsWorker } from "../core/run/worker_host.ts";
import { configureLogging } from "./logging.ts";
import { addBooleanOption, type BooleanEnv, LOG_LEVELS, parseProgram } from "./program.ts";
import { abortOnSignal } from "./signals.ts";
import { duration, wholeNumber, workerName } from "./values.ts";

const stderr = fileSink(Deno.stderr);

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
  if (!parseProgram(program, args, booleans, "see worker --help")) return null;
  return program.opts();
}

/**
 * `stampede worker --connect URL`: joins a coordinator, runs its load workers and relays their
 * stats until the run is over; exits 0 then, 4 when refused or the coordinator is gone.
 */
export async function worker(args: string[]): Promise<number> {
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
