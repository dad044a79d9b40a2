// Think time: how long a user waits after each task, as between(), constant() or a duration.
import { parseDuration } from "../duration.ts";
import { PlanError } from "../errors.ts";

/** A duration in a plan: a number of seconds, or text such as `"500ms"`, `"2s"`, `"1m30s"`. */
export type Duration = number | string;

/** Think time: returns how many seconds a user waits after each task. */
export type WaitTime = () => number;

/** A plan's duration in seconds; throws {@link PlanError} naming `what` when it is not one. */
export function durationSeconds(value: Duration, what: string): number {
  try {
    return parseDuration(value, what) / 1000;
  } catch (cause) {
    throw new PlanError(`Cannot use plan: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Think time drawn uniformly between `min` and `max`: seconds, or durations such as
 * `between("500ms", "2s")`.
 */
export function between(min: Duration, max: Duration): WaitTime {
  const minS = typeof min === "number" ? min : durationSeconds(min, "between() min");
  const maxS = typeof max === "number" ? max : durationSeconds(max, "between() max");
  if (!(minS >= 0) || !(maxS >= minS)) {
    throw new PlanError(`Cannot use between(${min}, ${max}): need 0 <= min <= max`);
  }
  const spanS = maxS - minS;
  return () => minS + Math.random() * spanS;
}

/** Think time of exactly `duration` after every task: seconds or `"1s"` (`constant(0)`: none). */
export function constant(duration: Duration): WaitTime {
  const seconds = typeof duration === "number" ? duration : durationSeconds(duration, "constant()");
  if (!(seconds >= 0)) {
    throw new PlanError(`Cannot use constant(${duration}): need a duration >= 0`);
  }
  return () => seconds;
}

const PACING = Symbol.for("stampede.wait.pacing");

/** A wait that paces iterations: its start-to-start time, in seconds. */
type PacingWait = WaitTime & { readonly [PACING]: number };

/**
 * Paces each user's iterations: one starts every `duration` (seconds or `"2s"`), however long
 * the last one took (Locust's `constant_pacing`); one that took longer is followed at once.
 * The intended start of each iteration is known, so latencies are also recorded from it
 * (corrected latency).
 */
export function constantPacing(duration: Duration): WaitTime {
  const seconds = typeof duration === "number"
    ? duration
    : durationSeconds(duration, "constantPacing()");
  if (!(seconds > 0)) {
    throw new PlanError(`Cannot use constantPacing(${duration}): need a duration > 0`);
  }
  const wait = (() => seconds) as PacingWait;
  Object.defineProperty(wait, PACING, { value: seconds });
  return wait;
}

/**
 * Paces each user to `perSecond` iterations a second at most (Locust's `constant_throughput`):
 * `constantPacing(1 / perSecond)`.
 */
export function constantThroughput(perSecond: number): WaitTime {
  if (!(typeof perSecond === "number" && perSecond > 0 && Number.isFinite(perSecond))) {
    throw new PlanError(`Cannot use constantThroughput(${perSecond}): need a number > 0`);
  }
  return constantPacing(1 / perSecond);
}

/** The start-to-start time (s) of a pacing wait, or undefined for any other wait. */
export function pacingOf(wait: unknown): number | undefined {
  return typeof wait === "function" ? (wait as Partial<PacingWait>)[PACING] : undefined;
}

/** The plan's `wait` as a function of seconds; throws {@link PlanError} naming a bad one. */
export function normalizeWait(wait: unknown, where: string): WaitTime {
  if (wait === undefined) return () => 0;
  if (typeof wait === "function") return wait as WaitTime;
  if (typeof wait === "number" && Number.isFinite(wait) && wait >= 0) return () => wait;
  if (typeof wait === "string") return constant(durationSeconds(wait, `${where}.wait`));
  throw new PlanError(
    `Cannot use plan: ${where}.wait must be between(a, b), constant(d), a duration such as "2s" or seconds >= 0`,
  );
}
