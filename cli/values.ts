// The values of the command line's flags: each parser checks one and converts it, or throws
// commander's InvalidArgumentError, which it reports as a usage error naming the flag.
import { InvalidArgumentError } from "npm:commander@15.1.0";
import { parseDuration } from "../core/duration.ts";

export function wholeNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError("expected a whole number >= 0.");
  }
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError("expected a number > 0.");
  }
  return n;
}

export function duration(value: string): string {
  try {
    parseDuration(value);
  } catch {
    throw new InvalidArgumentError("expected a duration like 30s, 5m, 1h30m or 250ms.");
  }
  return value;
}

export function tag(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const pairs = value.split(",").map((p) => p.trim()).filter((p) => p.length > 0);
  const tags = { ...previous };
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new InvalidArgumentError(`expected key=value, got "${pair}".`);
    tags[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return tags;
}

export function percentiles(value: string): number[] {
  const list = value.split(",").map((p) => Number(p.trim()));
  if (list.length === 0 || list.some((p) => !(p > 0 && p <= 100))) {
    throw new InvalidArgumentError("expected numbers 0 < p <= 100 separated by commas.");
  }
  return list;
}

/** A tolerance as `10%` or `0.1`. */
export function tolerance(value: string): number {
  const percent = value.trim().endsWith("%");
  const n = Number(percent ? value.trim().slice(0, -1) : value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError("expected a tolerance such as 10% or 0.1.");
  }
  return percent ? n / 100 : n;
}

/** A worker process's name in records: letters, digits, `.`, `_` and `-`. */
export function workerName(value: string): string {
  if (!/^[A-Za-z0-9._-]{1,63}$/.test(value) || /^(coordinator|worker-\d+)$/.test(value)) {
    throw new InvalidArgumentError(
      "expected 1 to 63 letters, digits, '.', '_' or '-', other than coordinator or worker-N.",
    );
  }
  return value;
}
