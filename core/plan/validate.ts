// Checking a plan before anything runs: every key known, every value in range, the users
// normalized once. Errors name the path of what is wrong and say what would be right.
import { describeError, PlanError } from "../errors.ts";
import { HTTP_ENGINES } from "../http/engine.ts";
import { parseThresholds, type Threshold } from "../threshold_syntax.ts";
import { MAX_TIMER_MS } from "../timers.ts";
import { DATA_ORDERS, isDataSource } from "./data.ts";
import { checkKnownKeys } from "./keys.ts";
import { checkTick } from "./shape.ts";
import type {
  ArrivalSpec,
  LoadSpec,
  NormalizedTask,
  NormalizedUserKind,
  PlanHttpOptions,
  PlanSpec,
  StageSpec,
  TaskFn,
  UserSpec,
} from "./plan.ts";
import { durationSeconds, normalizeWait, pacingOf } from "./wait.ts";
import { parseRate, type Rate } from "../rate.ts";

/** The keys a plan knows, at each level. Keys that later features add are listed here. */
const PLAN_KEYS = ["name", "host", "users", "load", "http", "data", "thresholds"] as const;
const USER_KEYS = [
  "weight",
  "fixed",
  "wait",
  "tasks",
  "onStart",
  "onStop",
  "iterations",
  "arrival",
] as const;
const TASK_KEYS = ["weight", "run"] as const;
const LOAD_KEYS = [
  "users",
  "spawnRate",
  "duration",
  "stages",
  "shape",
  "iterations",
  "arrivalRate",
  "maxUsers",
  "maxLateness",
] as const;
const ARRIVAL_KEYS = ["rate", "stages", "startRate", "users", "maxUsers", "maxLateness"] as const;
const RATE_STAGE_KEYS = ["duration", "rate"] as const;
const STAGE_KEYS = ["duration", "users"] as const;
const HTTP_KEYS = ["timeout", "timeoutMs", "headers", "engine", "insecure"] as const;

/**
 * Checks the plan's shape and normalizes its users; throws {@link PlanError} naming the first
 * problem (an unknown key with the key it was probably meant to be).
 */
export function validatePlan(spec: PlanSpec): NormalizedUserKind[] {
  if (typeof spec !== "object" || spec === null) {
    throw new PlanError("Cannot use plan: definePlan() needs an object");
  }
  if (spec.name !== undefined && typeof spec.name !== "string") {
    throw new PlanError("Cannot use plan: name must be a string");
  }
  checkKnownKeys(spec, PLAN_KEYS, "");
  if (spec.host !== undefined) checkHost(spec.host, "plan host");
  checkHttp(spec.http);
  checkLoad(spec.load);
  checkData(spec.data);
  if (spec.thresholds !== undefined) planThresholds(spec);
  const users = spec.users;
  if (typeof users !== "object" || users === null || Object.keys(users).length === 0) {
    throw new PlanError("Cannot use plan: users is empty; define at least one kind of user");
  }
  return normalizeUsers(users);
}

/** Normalizes the users map: weights, wait functions, task lists. */
export function normalizeUsers(users: Record<string, UserSpec>): NormalizedUserKind[] {
  const kinds: NormalizedUserKind[] = [];
  for (const [kind, user] of Object.entries(users)) {
    const where = `users.${kind}`;
    if (typeof user !== "object" || user === null) {
      throw new PlanError(`Cannot use plan: ${where} must be an object with tasks`);
    }
    checkKnownKeys(user, USER_KEYS, where);
    const weight = checkWeight(user.weight, where);
    const fixed = checkFixed(user, where);
    const tasks: NormalizedTask[] = [];
    if (typeof user.tasks !== "object" || user.tasks === null) {
      throw new PlanError(`Cannot use plan: ${where}.tasks is missing`);
    }
    for (const [name, task] of Object.entries(user.tasks)) {
      const spec = typeof task === "function" ? { run: task } : task;
      if (typeof spec !== "object" || spec === null || typeof spec.run !== "function") {
        throw new PlanError(`Cannot use plan: ${where}.tasks.${name} has no run function`);
      }
      checkKnownKeys(spec, TASK_KEYS, `${where}.tasks.${name}`);
      tasks.push({
        name,
        weight: checkWeight(spec.weight, `${where}.tasks.${name}`),
        run: spec.run,
      });
    }
    if (!tasks.some((t) => t.weight > 0)) {
      throw new PlanError(`Cannot use plan: ${where} has no task with a weight above 0`);
    }
    const pacingS = pacingOf(user.wait);
    const iterations = user.iterations === undefined
      ? undefined
      : checkCount(user.iterations, `${where}.iterations`, 1, MAX_ITERATIONS);
    if (user.arrival !== undefined) {
      checkArrival(user.arrival, `${where}.arrival`);
      if (fixed !== undefined || iterations !== undefined) {
        throw new PlanError(
          `Cannot use plan: ${where} has arrival and ${
            fixed !== undefined ? "fixed" : "iterations"
          }; an arrival-rate kind's users are its pool (arrival.users)`,
        );
      }
    }
    kinds.push({
      kind,
      weight,
      ...(fixed === undefined ? {} : { fixed }),
      wait: normalizeWait(user.wait, where),
      ...(pacingS === undefined ? {} : { pacingS }),
      ...(iterations === undefined ? {} : { iterations }),
      ...(user.arrival === undefined ? {} : { arrival: user.arrival }),
      tasks,
      onStart: checkHook(user.onStart, `${where}.onStart`),
      onStop: checkHook(user.onStop, `${where}.onStop`),
    });
  }
  if (!kinds.some((k) => k.weight > 0 || (k.fixed ?? 0) > 0 || k.arrival !== undefined)) {
    throw new PlanError("Cannot use plan: every user kind has weight 0");
  }
  return kinds;
}

/** Checks a base URL; returns it without a trailing slash. */
export function checkHost(host: string, what: string): string {
  let url: URL;
  try {
    url = new URL(host);
  } catch (cause) {
    throw new PlanError(`Cannot use ${what} "${host}": it is not a URL`, { cause });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new PlanError(`Cannot use ${what} "${host}": only http:// and https:// are supported`);
  }
  return host.replace(/\/+$/, "");
}

/** The most users one run places: each needs about 20 KB, so a million is 20 GB. */
export const MAX_USERS = 1_000_000;

/** The most iterations a limit may name (the shared counter is a 32-bit integer). */
export const MAX_ITERATIONS = 2 ** 31 - 1;

/** A whole number from `min` to `max`, or a plan error naming `where`. */
function checkCount(value: unknown, where: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new PlanError(
      `Cannot use plan: ${where} is ${
        String(value)
      }; it must be a whole number from ${min} to ${max}`,
    );
  }
  return value;
}

/** A rate in a plan, or a plan error naming `where`. */
function checkRate(value: unknown, where: string, allowZero = false): number {
  try {
    return parseRate(value as Rate, where, allowZero);
  } catch (cause) {
    throw new PlanError(`Cannot use plan: ${(cause as Error).message}`, { cause });
  }
}

/** Checks an arrival rate: a rate, or stages of `{ duration, rate }`. */
export function checkArrivalRate(rate: unknown, where: string): void {
  if (!Array.isArray(rate)) {
    checkRate(rate, where);
    return;
  }
  if (rate.length === 0) {
    throw new PlanError(`Cannot use plan: ${where} must be a rate or a list of { duration, rate }`);
  }
  rate.forEach((stage, i) => {
    const at = `${where}[${i}]`;
    if (typeof stage !== "object" || stage === null) {
      throw new PlanError(`Cannot use plan: ${at} must be { duration, rate }`);
    }
    checkKnownKeys(stage, RATE_STAGE_KEYS, at);
    durationSeconds(stage.duration, `${at}.duration`);
    checkRate(stage.rate, `${at}.rate`, true);
  });
}

/** Checks a kind's `arrival`: one of rate or stages, a pool, its ceiling and a lateness. */
function checkArrival(arrival: unknown, where: string): void {
  if (typeof arrival !== "object" || arrival === null) {
    throw new PlanError(`Cannot use plan: ${where} must be { rate } or { stages }`);
  }
  checkKnownKeys(arrival, ARRIVAL_KEYS, where);
  const spec = arrival as ArrivalSpec;
  if ((spec.rate === undefined) === (spec.stages === undefined)) {
    throw new PlanError(`Cannot use plan: ${where} needs one of rate or stages`);
  }
  if (spec.rate !== undefined) checkRate(spec.rate, `${where}.rate`);
  if (spec.stages !== undefined) checkArrivalRate(spec.stages, `${where}.stages`);
  if (spec.startRate !== undefined) checkRate(spec.startRate, `${where}.startRate`, true);
  const users = spec.users === undefined
    ? 1
    : checkCount(spec.users, `${where}.users`, 1, MAX_USERS);
  if (spec.maxUsers !== undefined) checkCount(spec.maxUsers, `${where}.maxUsers`, users, MAX_USERS);
  if (spec.maxLateness !== undefined) durationSeconds(spec.maxLateness, `${where}.maxLateness`);
}

/** Weights are shares: past this, their sums lose precision (1e308 split 9:1). */
export const MAX_WEIGHT = 1_000_000;

function checkWeight(weight: unknown, where: string): number {
  if (weight === undefined) return 1;
  if (
    typeof weight !== "number" || !Number.isFinite(weight) || weight < 0 || weight > MAX_WEIGHT
  ) {
    throw new PlanError(
      `Cannot use plan: ${where}.weight is ${
        String(weight)
      }; weights are numbers from 0 to ${MAX_WEIGHT}`,
    );
  }
  return weight;
}

function checkHttp(http: PlanHttpOptions | undefined): void {
  if (http === undefined) return;
  checkKnownKeys(http, HTTP_KEYS, "http");
  const engine = http.engine;
  if (engine !== undefined && !(HTTP_ENGINES as readonly string[]).includes(engine)) {
    throw new PlanError(
      `Cannot use plan: http.engine "${engine}" is not one of ${HTTP_ENGINES.join(", ")}`,
    );
  }
  if (http.insecure !== undefined && typeof http.insecure !== "boolean") {
    throw new PlanError(`Cannot use plan: http.insecure must be true or false`);
  }
  if (http.timeout !== undefined && http.timeoutMs !== undefined) {
    throw new PlanError("Cannot use plan: http.timeout and http.timeoutMs say the same; keep one");
  }
  const timeoutMs = http.timeout !== undefined
    ? durationSeconds(http.timeout, "http.timeout") * 1000
    : http.timeoutMs;
  if (timeoutMs !== undefined && !(timeoutMs > 0 && timeoutMs <= MAX_TIMER_MS)) {
    throw new PlanError(
      `Cannot use plan: the request timeout ${timeoutMs} ms is out of range; it must be above 0 and at most 24 days`,
    );
  }
}

/** The plan's request timeout in ms (`http.timeout` or `http.timeoutMs`), if it sets one. */
export function planTimeoutMs(http: PlanHttpOptions | undefined): number | undefined {
  if (http?.timeout !== undefined) return durationSeconds(http.timeout, "http.timeout") * 1000;
  return http?.timeoutMs;
}

/** The plan's thresholds, parsed; a bad one is a plan error naming it. */
export function planThresholds(spec: PlanSpec): Threshold[] {
  if (spec.thresholds === undefined) return [];
  if (typeof spec.thresholds !== "object" || spec.thresholds === null) {
    throw new PlanError(
      'Cannot use plan: thresholds must map metrics to expressions, e.g. { "http.duration": ["p(95)<200"] }',
    );
  }
  try {
    return parseThresholds(spec.thresholds, (d) => durationSeconds(d, "delayAbortEval") * 1000);
  } catch (cause) {
    if (cause instanceof PlanError) throw cause;
    throw new PlanError(`Cannot use plan: ${(cause as Error).message}`, { cause });
  }
}

function checkData(data: Record<string, unknown> | undefined): void {
  if (data === undefined) return;
  if (typeof data !== "object" || data === null) {
    throw new PlanError("Cannot use plan: data must map names to csv(...) or json(...)");
  }
  for (const [name, source] of Object.entries(data)) {
    if (!isDataSource(source)) {
      throw new PlanError(
        `Cannot use plan: data.${name} must be csv("file.csv") or json("file.json")`,
      );
    }
    if (!DATA_ORDERS.includes(source.order)) {
      throw new PlanError(
        `Cannot use plan: data.${name} has order "${source.order}"; use one of ${
          DATA_ORDERS.join(", ")
        }`,
      );
    }
  }
}

function checkLoad(load: LoadSpec | undefined): void {
  if (load === undefined) return;
  checkKnownKeys(load, LOAD_KEYS, "load");
  const users = load.users;
  if (users !== undefined && (!Number.isInteger(users) || users < 0 || users > MAX_USERS)) {
    throw new PlanError(
      `Cannot use plan: load.users is ${users}; it must be a whole number from 0 to ${MAX_USERS}`,
    );
  }
  const rate = load.spawnRate;
  if (rate !== undefined && !(typeof rate === "number" && rate > 0)) {
    throw new PlanError(`Cannot use plan: load.spawnRate is ${rate}; it must be a number > 0`);
  }
  if (load.duration !== undefined) durationSeconds(load.duration, "load.duration");
  const models = ["users", "stages", "shape"].filter((k) =>
    load[k as keyof LoadSpec] !== undefined
  );
  if (models.length > 1) {
    throw new PlanError(
      `Cannot use plan: load has ${models.join(" and ")}; give one of users, stages or shape`,
    );
  }
  if (load.iterations !== undefined) {
    checkCount(load.iterations, "load.iterations", 1, MAX_ITERATIONS);
  }
  if (load.arrivalRate !== undefined) {
    checkArrivalRate(load.arrivalRate, "load.arrivalRate");
    if (load.stages !== undefined || load.shape !== undefined) {
      throw new PlanError(
        "Cannot use plan: load has arrivalRate and stages or shape; an arrival rate has its own stages ([{ duration, rate }])",
      );
    }
  }
  if (load.maxUsers !== undefined) {
    checkCount(load.maxUsers, "load.maxUsers", Math.max(1, load.users ?? 1), MAX_USERS);
  }
  if (load.maxLateness !== undefined) durationSeconds(load.maxLateness, "load.maxLateness");
  if (load.stages !== undefined) checkStages(load.stages, "load.stages");
  if (load.shape !== undefined) {
    if (typeof load.shape !== "function") {
      throw new PlanError("Cannot use plan: load.shape must be a function of the elapsed seconds");
    }
    try {
      checkTick(load.shape(0));
    } catch (cause) {
      throw new PlanError(`Cannot use plan: load.shape(0) failed: ${describeError(cause)}`, {
        cause,
      });
    }
  }
}

/** Checks stages (from a plan or --stages): durations, and whole users within the limit. */
export function checkStages(stages: unknown, where: string): StageSpec[] {
  if (!Array.isArray(stages) || stages.length === 0) {
    throw new PlanError(`Cannot use plan: ${where} must be a list of { duration, users }`);
  }
  stages.forEach((stage, i) => {
    const at = `${where}[${i}]`;
    if (typeof stage !== "object" || stage === null) {
      throw new PlanError(`Cannot use plan: ${at} must be { duration, users }`);
    }
    checkKnownKeys(stage, STAGE_KEYS, at);
    durationSeconds(stage.duration, `${at}.duration`);
    if (!Number.isInteger(stage.users) || stage.users < 0 || stage.users > MAX_USERS) {
      throw new PlanError(
        `Cannot use plan: ${at}.users is ${stage.users}; it must be a whole number from 0 to ${MAX_USERS}`,
      );
    }
  });
  return stages;
}

function checkFixed(user: UserSpec, where: string): number | undefined {
  if (user.fixed === undefined) return undefined;
  if (!Number.isInteger(user.fixed) || user.fixed < 0 || user.fixed > MAX_USERS) {
    throw new PlanError(
      `Cannot use plan: ${where}.fixed is ${user.fixed}; it must be a whole number from 0 to ${MAX_USERS}`,
    );
  }
  if (user.weight !== undefined) {
    throw new PlanError(
      `Cannot use plan: ${where} has both weight and fixed; a fixed kind has exactly its users`,
    );
  }
  return user.fixed;
}

function checkHook(hook: unknown, where: string): TaskFn | undefined {
  if (hook === undefined) return undefined;
  if (typeof hook !== "function") {
    throw new PlanError(`Cannot use plan: ${where} must be a function`);
  }
  return hook as TaskFn;
}
