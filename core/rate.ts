// Rates as people write them: `200/s`, `50/m`, `3600/h`, `10/100ms`, or a number per second.
import { parseDuration } from "./duration.ts";
import { UsageError } from "./errors.ts";

/** A rate in a plan or a flag: `"200/s"`, `"50/m"`, or iterations per second as a number. */
export type Rate = number | string;

/** The most iterations per second a rate may ask for (one machine does far fewer). */
export const MAX_RATE = 10_000_000;

/**
 * Parses a rate into iterations per second; throws a {@link UsageError} naming `what` when it is
 * not one, or is not above 0 (`allowZero` accepts 0, for the stages of a ramping rate).
 */
export function parseRate(input: Rate, what = "rate", allowZero = false): number {
  let perSecond: number;
  if (typeof input === "number") {
    perSecond = input;
  } else {
    const match = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\S+)\s*$/.exec(input);
    const bare = /^\s*\d+(?:\.\d+)?\s*$/.test(input);
    if (!match && !bare) {
      throw new UsageError(
        `Cannot use ${what} "${input}": expected iterations per time such as 200/s, 50/m or 3600/h`,
      );
    }
    if (bare) {
      perSecond = Number(input);
    } else {
      const unit = match![2];
      const per = /^\d/.test(unit) ? unit : `1${unit}`;
      const ms = parseDuration(per, `${what} unit`);
      perSecond = ms > 0 ? Number(match![1]) / (ms / 1000) : NaN;
    }
  }
  if (!Number.isFinite(perSecond) || perSecond < 0 || (!allowZero && perSecond === 0)) {
    throw new UsageError(
      `Cannot use ${what} "${input}": it must be above 0${allowZero ? " or 0" : ""}, e.g. 200/s`,
    );
  }
  if (perSecond > MAX_RATE) {
    throw new UsageError(`Cannot use ${what} "${input}": at most ${MAX_RATE}/s`);
  }
  return perSecond;
}
