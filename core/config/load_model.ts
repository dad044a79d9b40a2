// The load model of a run: how many users when (a ramp, stages or the plan's shape), or the
// fixed users beside an arrival rate; flags win over the plan's whole load model.
import { parseDuration } from "../duration.ts";
import { UsageError } from "../errors.ts";
import { type LoadSpec, MAX_USERS, type NormalizedUserKind, type StageSpec } from "../plan/plan.ts";
import { checkStages } from "../plan/validate.ts";
import { rampProfile, shapeProfile, stagesProfile } from "../run/load_profile.ts";
import type { LoadProfile } from "../run/ramp.ts";
import type { RunOptions } from "./run_options.ts";

/** A count of users or workers: a whole number from 0 to `max`. */
export function wholeCount(value: number, what: string, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new UsageError(
      `Cannot use ${what} "${value}": it must be a whole number from 0 to ${max}`,
    );
  }
  return value;
}

/**
 * How many users run when: `--stages`, else `--users`/`--spawn-rate` (a ramp), else the plan's
 * stages, shape, or users and spawn rate. Flags win over the plan's whole load model.
 */
export function resolveProfile(
  options: RunOptions,
  load: LoadSpec,
  kinds: readonly NormalizedUserKind[],
): { profile: LoadProfile; users: number; spawnRate: number } {
  if ((options.arrivalRate ?? load.arrivalRate) !== undefined) {
    return arrivalRunProfile(options, kinds);
  }
  const rampFlags = options.users !== undefined || options.spawnRate !== undefined;
  const stages = options.stages !== undefined
    ? parseStages(options.stages)
    : rampFlags
    ? undefined
    : load.stages;
  if (stages !== undefined) {
    const profile = stagesProfile(stages.map((s) => ({
      durationMs: parseDuration(s.duration, "stage duration"),
      users: s.users,
    })));
    return { profile, users: profile.peak ?? 0, spawnRate: Infinity };
  }
  if (!rampFlags && load.shape !== undefined) {
    return { profile: shapeProfile(load.shape), users: 0, spawnRate: Infinity };
  }
  const users = wholeCount(options.users ?? load.users ?? 1, "users", MAX_USERS);
  const spawnRate = options.spawnRate ?? load.spawnRate ?? Infinity;
  if (!(spawnRate > 0)) {
    throw new UsageError(`Cannot use spawn rate "${spawnRate}": it must be a number > 0`);
  }
  return { profile: rampProfile(users, spawnRate), users, spawnRate };
}

/**
 * With an arrival rate for the whole load, `users` is its pool: the closed-model users are only
 * those of fixed-count kinds, all started at once.
 */
function arrivalRunProfile(
  options: RunOptions,
  kinds: readonly NormalizedUserKind[],
): { profile: LoadProfile; users: number; spawnRate: number } {
  if (options.stages !== undefined || options.spawnRate !== undefined) {
    throw new UsageError(
      `Cannot use ${
        options.stages !== undefined ? "--stages" : "--spawn-rate"
      } with an arrival rate: its users are a pool (--users), its stages are rates (--arrival-rate "30s:100/s,1m:100/s")`,
    );
  }
  const fixed = kinds.reduce((n, k) => n + (k.arrival === undefined ? k.fixed ?? 0 : 0), 0);
  return { profile: rampProfile(fixed, Infinity), users: fixed, spawnRate: Infinity };
}

/** `--stages "30s:50,1m:50,20s:0"`: duration:users pairs, or stages as a plan writes them. */
export function parseStages(input: string | StageSpec[]): StageSpec[] {
  if (typeof input !== "string") return checkStages(input, "stages");
  const stages = input.split(",").map((part) => part.trim()).filter((p) => p !== "").map((part) => {
    const [duration, users, extra] = part.split(":");
    if (extra !== undefined || users === undefined || !/^\d+$/.test(users.trim())) {
      throw new UsageError(
        `Cannot use stages "${input}": each stage is duration:users, such as 30s:50`,
      );
    }
    parseDuration(duration.trim(), `stage "${part}"`);
    return {
      duration: duration.trim(),
      users: wholeCount(Number(users), "stage users", MAX_USERS),
    };
  });
  if (stages.length === 0) {
    throw new UsageError(`Cannot use stages "${input}": give at least one, such as 30s:50`);
  }
  return stages;
}
