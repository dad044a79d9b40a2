// stampede's command line: argv and env → options → run → exit code. The only file that exits;
// the commands, their flags and values are in cli/.
import type { LogLevel } from "npm:@logtape/logtape@2.4.2";
import { ExitCode, StampedeError } from "./core/errors.ts";
import { fileSink } from "./core/sink.ts";
import { builtinRegistry } from "./recorders/builtin.ts";
import { compare } from "./cli/compare_command.ts";
import { configureLogging } from "./cli/logging.ts";
import {
  exitCodeOf,
  logLevelOf,
  parseArgs,
  recorderSpecs,
  runOptionsOf,
} from "./cli/run_command.ts";
import { listenForSignals } from "./cli/signals.ts";
import { worker } from "./cli/worker_command.ts";
import { run } from "./run.ts";

const stderr = fileSink(Deno.stderr);

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
      const summary = await run(parsed.planPath, runOptionsOf(opts, plugins, signals));
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
