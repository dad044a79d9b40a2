// Which user kinds run as an open model, at what rate, on how large a pool: resolved once on
// the coordinator from the plan (a kind's `arrival`, the load's `arrivalRate`) and the flags
// (`--arrival-rate`, `--users` as the pool, `--max-users`, `--max-lateness`), then sent to every
// load worker as plain data.
import { parseDuration } from "../duration.ts";
import { UsageError } from "../errors.ts";
import type { LoadSpec, NormalizedUserKind, RateStageSpec } from "../plan/plan.ts";
import { checkArrivalRate } from "../plan/validate.ts";
import { parseRate, type Rate } from "../rate.ts";
import type { RateStage } from "./arrival_schedule.ts";

/** One open-model user kind, as every load worker receives it. */
export interface ArrivalKind {
  kind: string;
  /** The rate profile (iterations per second), see arrival_schedule.ts. */
  stages: RateStage[];
  /** The last rate goes on until the run stops (a constant rate). */
  endless: boolean;
  /** Users started before the first iteration, over every worker. */
  pool: number;
  /** The pool may grow to this many users while iterations wait. */
  maxUsers: number;
  /** How late an iteration may start before it is dropped. */
  maxLatenessMs: number;
  /** The run-wide index of this kind's first user: open-model users are numbered first. */
  firstIndex: number;
  /**
   * No iteration is due at or after this (ms from the start): the run time, so that a run of
   * `rate × duration` starts exactly that many; null without one.
   */
  untilMs?: number | null;
}

/** How late an iteration may start when nothing says otherwise. */
export const DEFAULT_MAX_LATENESS = "1s";

/** The flags that shape an arrival rate (each wins over the plan's `load`). */
export interface ArrivalFlags {
  arrivalRate?: Rate | RateStageSpec[];
  users?: number;
  maxUsers?: number;
  maxLateness?: string | number;
}

/** `--arrival-rate`: a rate (`200/s`), or stages of rates (`30s:100/s,1m:100/s`). */
export function parseArrivalRate(input: Rate | RateStageSpec[]): Rate | RateStageSpec[] {
  if (typeof input !== "string" || !input.includes(":")) {
    if (Array.isArray(input)) checkArrivalRate(input, "arrival rate");
    else parseRate(input, "arrival rate");
    return input;
  }
  return input.split(",").map((part) => part.trim()).filter((p) => p !== "").map((part) => {
    const [duration, rate, extra] = part.split(":");
    if (extra !== undefined || rate === undefined) {
      throw new UsageError(
        `Cannot use arrival rate "${input}": each stage is duration:rate, such as 30s:100/s`,
      );
    }
    parseDuration(duration.trim(), `arrival stage "${part}"`);
    parseRate(rate.trim(), `arrival stage "${part}"`, true);
    return { duration: duration.trim(), rate: rate.trim() };
  });
}

/** A rate profile from a constant rate or stages, every rate multiplied by `share`. */
function stagesOf(
  rate: Rate | RateStageSpec[],
  startRate: Rate | undefined,
  share: number,
): { stages: RateStage[]; endless: boolean } {
  if (!Array.isArray(rate)) {
    const perSecond = parseRate(rate, "arrival rate") * share;
    return { stages: [{ durationMs: 0, from: perSecond, to: perSecond }], endless: true };
  }
  let from = startRate === undefined ? 0 : parseRate(startRate, "start rate", true) * share;
  const stages = rate.map((s) => {
    const to = parseRate(s.rate, "arrival stage rate", true) * share;
    const stage = { durationMs: parseDuration(s.duration, "arrival stage duration"), from, to };
    from = to;
    return stage;
  });
  return { stages, endless: false };
}

/** `total` split by `weights`, largest remainders first, so the parts add up to `total`. */
export function splitByWeight(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const parts = exact.map(Math.floor);
  const order = exact.map((x, i) => [x - Math.floor(x), i]).sort((a, b) => b[0] - a[0]);
  for (let k = 0; k < total - parts.reduce((a, b) => a + b, 0); k++) parts[order[k][1]]++;
  return parts;
}

/**
 * The run's open-model kinds: those with an `arrival` of their own, and, with an arrival rate
 * for the whole load, every weighted kind (rate, pool and ceiling split by weight). Throws a
 * {@link UsageError} for a pool too small to give each such kind a user.
 */
export function resolveArrivals(
  kinds: readonly NormalizedUserKind[],
  load: LoadSpec,
  flags: ArrivalFlags,
): ArrivalKind[] {
  const lateness = flags.maxLateness ?? load.maxLateness ?? DEFAULT_MAX_LATENESS;
  const out: Omit<ArrivalKind, "firstIndex">[] = [];
  for (const k of kinds) {
    const a = k.arrival;
    if (a === undefined) continue;
    const pool = a.users ?? 1;
    out.push({
      kind: k.kind,
      ...stagesOf(a.rate ?? a.stages!, a.startRate, 1),
      pool,
      maxUsers: a.maxUsers ?? pool,
      maxLatenessMs: parseDuration(a.maxLateness ?? lateness, `${k.kind} max lateness`),
    });
  }
  const rate = flags.arrivalRate ?? load.arrivalRate;
  if (rate !== undefined) out.push(...splitGlobal(kinds, load, flags, rate, lateness));
  let firstIndex = 0;
  return out.map((a) => {
    const resolved = { ...a, firstIndex };
    firstIndex += a.maxUsers;
    return resolved;
  });
}

/** The arrival rate of the whole load, split over the weighted kinds without one of their own. */
function splitGlobal(
  kinds: readonly NormalizedUserKind[],
  load: LoadSpec,
  flags: ArrivalFlags,
  rate: Rate | RateStageSpec[],
  lateness: string | number,
): Omit<ArrivalKind, "firstIndex">[] {
  const open = kinds.filter((k) =>
    k.arrival === undefined && k.fixed === undefined && k.weight > 0
  );
  if (open.length === 0) {
    throw new UsageError(
      "Cannot use an arrival rate: the plan has no weighted user kind to run at it",
    );
  }
  const pool = flags.users ?? load.users ?? 1;
  const maxUsers = flags.maxUsers ?? load.maxUsers ?? pool;
  if (!(Number.isInteger(pool) && pool >= 1)) {
    throw new UsageError(
      `Cannot use an arrival rate with a pool of ${pool} users: --users is the pool, at least 1`,
    );
  }
  if (!(Number.isInteger(maxUsers) && maxUsers >= pool)) {
    throw new UsageError(
      `Cannot use --max-users ${maxUsers}: it must be a whole number no smaller than the pool (--users ${pool})`,
    );
  }
  const weights = open.map((k) => k.weight);
  const pools = splitByWeight(pool, weights);
  const ceilings = splitByWeight(maxUsers, weights);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  return open.map((k, i) => {
    if (pools[i] === 0) {
      throw new UsageError(
        `Cannot use an arrival rate with a pool of ${pool} users over ${open.length} user kinds: each needs one; raise --users`,
      );
    }
    return {
      kind: k.kind,
      ...stagesOf(rate, undefined, k.weight / weightSum),
      pool: pools[i],
      maxUsers: Math.max(pools[i], ceilings[i]),
      maxLatenessMs: parseDuration(lateness, "max lateness"),
    };
  });
}

/** Whether `kind` runs as an open model. */
export function isArrivalKind(arrivals: readonly ArrivalKind[], kind: string): boolean {
  return arrivals.some((a) => a.kind === kind);
}
