// Reading settings given as text (env vars, plugin options): one rule for booleans everywhere.
import { UsageError } from "./errors.ts";

const TRUE = new Set(["1", "true", "yes", "on", ""]);
const FALSE = new Set(["0", "false", "no", "off"]);

/**
 * A boolean setting: `true`/`false`, or the text `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`
 * (empty text: true, as a bare flag); undefined stays undefined. Other text throws a
 * {@link UsageError} naming `what`.
 */
export function parseBoolean(value: unknown, what: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "boolean") return value;
  const text = String(value).trim().toLowerCase();
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  throw new UsageError(`Cannot use ${what} "${value}": expected true or false`);
}

/** A plugin's boolean option (`--json-histograms`), false when absent. */
export function booleanOption(options: Record<string, unknown>, name: string): boolean {
  return parseBoolean(options[name], `option ${name}`) ?? false;
}

/** A plugin's text option (`--json-file <path>`); undefined when absent or empty. */
export function stringOption(options: Record<string, unknown>, name: string): string | undefined {
  const value = options[name];
  return value === undefined || value === null || value === "" ? undefined : String(value);
}
