// What every command of the command line shares: boolean flags whose env var means what it
// says, the log levels, and one way to parse argv into a command's options.
import { type Command, CommanderError, Option } from "npm:commander@15.1.0";
import { UsageError } from "../core/errors.ts";
import { parseBoolean } from "../core/option_values.ts";
import { fileSink } from "../core/sink.ts";

/**
 * A boolean flag's env var, read by hand after parsing: commander turns a boolean on for any
 * value of its env var, "false" too.
 */
export interface BooleanEnv {
  attribute: string;
  env: string;
}

/** Adds a boolean option whose env var means what it says; records it in `booleans`. */
export function addBooleanOption(
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

export const LOG_LEVELS = ["debug", "info", "warning", "error"] as const;

/**
 * Parses `args` with `program` (help and version go to stdout), then gives the boolean flags
 * their env vars' values, read by hand: commander takes any value as on. A bad flag or value
 * throws a UsageError ending in `; <hint>`, on one line unless `oneLine` is false. Returns false
 * for --help and --version: there is nothing more to do.
 */
export function parseProgram(
  program: Command,
  args: string[],
  booleans: BooleanEnv[],
  hint: string,
  oneLine = true,
): boolean {
  program.configureOutput({
    writeOut: (text) => fileSink(Deno.stdout).write(text),
    writeErr: () => {},
  });
  try {
    program.parse(args, { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) return false; // --help, --version
    const message = error.message.replace(/^error: /, "");
    throw new UsageError(`${(oneLine ? message.replace(/\n/g, " ") : message).trim()}; ${hint}`);
  }
  for (const { attribute, env } of booleans) {
    if (program.getOptionValueSource(attribute) === "cli") continue;
    const value = parseBoolean(Deno.env.get(env), env);
    if (value !== undefined) program.setOptionValueWithSource(attribute, value, "env");
  }
  return true;
}
