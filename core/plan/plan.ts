// The plan API: definePlan, think times, the task context, and validation with clear errors.
import { parseDuration } from "../duration.ts";
import { PlanError } from "../errors.ts";
import type { HttpClient } from "../http/client.ts";
import { HTTP_ENGINES, type HttpEngineName } from "../http/engine.ts";
import type { RunInfo } from "../run_info.ts";

/** Think time: returns how many seconds a user waits after each task. */
export type WaitTime = () => number;

/** Think time drawn uniformly between `minS` and `maxS` seconds. */
export function between(minS: number, maxS: number): WaitTime {
  if (!(minS >= 0) || !(maxS >= minS)) {
    throw new PlanError(`Cannot use between(${minS}, ${maxS}): need 0 <= min <= max seconds`);
  }
  const spanS = maxS - minS;
  return () => minS + Math.random() * spanS;
}

/** Think time of exactly `seconds` after every task (`constant(0)`: none). */
export function constant(seconds: number): WaitTime {
  if (!(seconds >= 0)) {
    throw new PlanError(`Cannot use constant(${seconds}): need seconds >= 0`);
  }
  return () => seconds;
}

/** A non-HTTP request reported by a task through `ctx.record(...)`. */
export interface RecordedRequest {
  /** Grouping like an HTTP method, e.g. `"grpc"`, `"ws"`, `"db"`. */
  type: string;
  /** Stats grouping name, e.g. `"GetUser"`. */
  name: string;
  /** How long the request took, in milliseconds. */
  durationMs: number;
  /** Error text when the request failed; absent or empty on success. */
  error?: string | null;
  /** Bytes received, if known. */
  bytes?: number;
}

/** What a task gets: the user's HTTP client, a recorder for other requests and run facts. */
export interface TaskContext {
  /** HTTP client of this virtual user; relative paths resolve against the host. */
  readonly http: HttpClient;
  /** Records a non-HTTP request into the stats. */
  record(request: RecordedRequest): void;
  /** This virtual user: `id` is unique within the run, `kind` is its key in `users`. */
  readonly user: { readonly id: number; readonly kind: string };
  /** Facts about the run: `runId`, `testplan`, `host`, tags. */
  readonly run: RunInfo;
  /** Per-user state that lives as long as the user (e.g. a login token). */
  readonly state: Record<string, unknown>;
  /** Aborted when the run stops; pass it to your own clients. */
  readonly signal: AbortSignal;
  /** Sleeps `seconds`, waking early (and throwing) when the run stops. */
  sleep(seconds: number): Promise<void>;
}

/**
 * The body of a task: a function of the task context; what it returns (a response, a promise of
 * one) is awaited and ignored, so `({ http }) => http.get("/")` is a task.
 */
export type TaskFn = (ctx: TaskContext) => void | Promise<unknown>;

/** A task: picked with probability proportional to `weight` (default 1). */
export interface TaskSpec {
  weight?: number;
  run: TaskFn;
}

/** One kind of virtual user. */
export interface UserSpec {
  /** Share of the users that are of this kind (default 1). */
  weight?: number;
  /** Think time after each task: `between(a, b)`, `constant(s)` or a number of seconds. */
  wait?: WaitTime | number;
  /** The tasks, by name: a spec, or a bare function of weight 1. */
  tasks: Record<string, TaskSpec | TaskFn>;
  /** Runs once when a user of this kind starts (e.g. log in). */
  onStart?: TaskFn;
  /** Runs once when a user of this kind stops, if the run gives it time. */
  onStop?: TaskFn;
}

/** The plan's default load; flags and env vars override it. */
export interface LoadSpec {
  /** Peak number of concurrent users. */
  users?: number;
  /** Users started per second while ramping up. */
  spawnRate?: number;
  /** How long the run lasts: `30s`, `5m`, `1h30m` or seconds. */
  duration?: string | number;
}

/** A load test plan, as written by its author. */
export interface PlanSpec {
  /** The test plan's name: `testplan` on every record. */
  name?: string;
  /** Base URL that relative request paths resolve against. */
  host?: string;
  /** The kinds of users, by name. */
  users: Record<string, UserSpec>;
  load?: LoadSpec;
  /** HTTP defaults for every request. */
  http?: PlanHttpOptions;
}

/** A plan's HTTP defaults; `--http-engine` and `--insecure` win over `engine` and `insecure`. */
export interface PlanHttpOptions {
  /** Request timeout in milliseconds (default 60 000). */
  timeoutMs?: number;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** `h1` (HTTP/1.1 on Deno.connect, the default) or `fetch` (Deno's fetch). */
  engine?: HttpEngineName;
  /** Skip TLS certificate checks (self-signed test servers); h1 only. */
  insecure?: boolean;
}

const PLAN = Symbol.for("stampede.plan");
/** The plan's user kinds, normalized once by `definePlan` and kept with the plan. */
const KINDS = Symbol.for("stampede.plan.kinds");

/** A validated plan: what `definePlan` returns and a plan module default-exports. */
export type Plan = PlanSpec & {
  readonly [PLAN]: true;
  readonly [KINDS]?: readonly NormalizedUserKind[];
};

/** A task in normalized form. */
export interface NormalizedTask {
  name: string;
  weight: number;
  run: TaskFn;
}

/** A user kind in normalized form. */
export interface NormalizedUserKind {
  kind: string;
  weight: number;
  wait: WaitTime;
  tasks: NormalizedTask[];
  onStart?: TaskFn;
  onStop?: TaskFn;
}

/**
 * Validates a plan and marks it as one; throws {@link PlanError} naming what is wrong. A plan
 * module default-exports what it returns.
 *
 * @example A plan with one kind of user and two weighted tasks
 * ```ts
 * import { between, definePlan } from "./mod.ts";
 *
 * export default definePlan({
 *   name: "shop",
 *   host: "http://127.0.0.1:8000",
 *   users: {
 *     shopper: {
 *       wait: between(0.5, 2),
 *       tasks: {
 *         browse: { weight: 5, run: async ({ http }) => { await http.get("/products"); } },
 *         buy: async ({ http }) => { await http.post("/cart", { json: { id: 7 } }); },
 *       },
 *     },
 *   },
 *   load: { users: 50, spawnRate: 10, duration: "1m" },
 * });
 * ```
 */
export function definePlan(spec: PlanSpec): Plan {
  const kinds = validatePlan(spec);
  return Object.freeze({ ...spec, [PLAN]: true as const, [KINDS]: Object.freeze(kinds) });
}

/** The plan's user kinds in normalized form, as `definePlan` computed them. */
export function userKindsOf(plan: Plan): readonly NormalizedUserKind[] {
  return plan[KINDS] ?? normalizeUsers(plan.users);
}

/** Whether `value` came from `definePlan`. */
export function isPlan(value: unknown): value is Plan {
  return typeof value === "object" && value !== null && (value as Plan)[PLAN] === true;
}

/** Checks the plan's shape and normalizes its users; throws {@link PlanError} naming the first
 * problem. */
function validatePlan(spec: PlanSpec): NormalizedUserKind[] {
  if (typeof spec !== "object" || spec === null) {
    throw new PlanError("Cannot use plan: definePlan() needs an object");
  }
  if (spec.name !== undefined && typeof spec.name !== "string") {
    throw new PlanError("Cannot use plan: name must be a string");
  }
  if (spec.host !== undefined) checkHost(spec.host, "plan host");
  const engine = spec.http?.engine;
  if (engine !== undefined && !(HTTP_ENGINES as readonly string[]).includes(engine)) {
    throw new PlanError(
      `Cannot use plan: http.engine "${engine}" is not one of ${HTTP_ENGINES.join(", ")}`,
    );
  }
  const insecure = spec.http?.insecure;
  if (insecure !== undefined && typeof insecure !== "boolean") {
    throw new PlanError(`Cannot use plan: http.insecure must be true or false`);
  }
  checkLoad(spec.load);
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
    const weight = checkWeight(user.weight, where);
    const tasks: NormalizedTask[] = [];
    if (typeof user.tasks !== "object" || user.tasks === null) {
      throw new PlanError(`Cannot use plan: ${where}.tasks is missing`);
    }
    for (const [name, task] of Object.entries(user.tasks)) {
      const spec = typeof task === "function" ? { run: task } : task;
      if (typeof spec !== "object" || spec === null || typeof spec.run !== "function") {
        throw new PlanError(`Cannot use plan: ${where}.tasks.${name} has no run function`);
      }
      tasks.push({
        name,
        weight: checkWeight(spec.weight, `${where}.tasks.${name}`),
        run: spec.run,
      });
    }
    if (!tasks.some((t) => t.weight > 0)) {
      throw new PlanError(`Cannot use plan: ${where} has no task with a weight above 0`);
    }
    kinds.push({
      kind,
      weight,
      wait: normalizeWait(user.wait, where),
      tasks,
      onStart: checkHook(user.onStart, `${where}.onStart`),
      onStop: checkHook(user.onStop, `${where}.onStop`),
    });
  }
  if (!kinds.some((k) => k.weight > 0)) {
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

function checkLoad(load: LoadSpec | undefined): void {
  if (load === undefined) return;
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
  if (load.duration !== undefined) {
    try {
      parseDuration(load.duration, "load.duration");
    } catch (cause) {
      throw new PlanError(`Cannot use plan: ${(cause as Error).message}`, { cause });
    }
  }
}

function normalizeWait(wait: unknown, where: string): WaitTime {
  if (wait === undefined) return () => 0;
  if (typeof wait === "function") return wait as WaitTime;
  if (typeof wait === "number" && Number.isFinite(wait) && wait >= 0) return () => wait;
  throw new PlanError(
    `Cannot use plan: ${where}.wait must be between(a, b), constant(s) or seconds >= 0`,
  );
}

function checkHook(hook: unknown, where: string): TaskFn | undefined {
  if (hook === undefined) return undefined;
  if (typeof hook !== "function") {
    throw new PlanError(`Cannot use plan: ${where} must be a function`);
  }
  return hook as TaskFn;
}
