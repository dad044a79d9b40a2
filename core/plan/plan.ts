// The plan API: definePlan, the plan's types and the task context; validate.ts checks a plan,
// wait.ts makes think times.
import type { HttpClient } from "../http/client.ts";
import type { HttpEngineName } from "../http/engine.ts";
import type { RunInfo } from "../run_info.ts";
import type { Rate } from "../rate.ts";
import type { ThresholdSpec } from "../threshold_syntax.ts";
import type { DataFeed, DataSource } from "./data.ts";
import { normalizeUsers, validatePlan } from "./validate.ts";
import type { Duration, WaitTime } from "./wait.ts";

export {
  between,
  constant,
  constantPacing,
  constantThroughput,
  type Duration,
  type WaitTime,
} from "./wait.ts";
export type { ThresholdSpec } from "../threshold_syntax.ts";
export {
  csv,
  type DataFeed,
  type DataOptions,
  type DataOrder,
  type DataSource,
  json,
} from "./data.ts";
export { checkHost, MAX_USERS, MAX_WEIGHT, normalizeUsers, planTimeoutMs } from "./validate.ts";

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

/**
 * A virtual user's identity. Users are numbered as they are placed: with N users at the peak,
 * `index` runs over 0 … N-1 across every worker, once each, and `kindIndex` over 0 … n-1 among
 * the n users of the same kind. A user stopped by a ramp-down and started again by a ramp-up
 * gets the same numbers back, so `ctx.data.accounts.at(ctx.user.index)` gives each running user
 * a row of its own.
 */
export interface UserInfo {
  /** 0 … N-1 over the whole run. */
  readonly index: number;
  /** 0 … n-1 among the users of this kind. */
  readonly kindIndex: number;
  /** This user's key in `users`. */
  readonly kind: string;
  /** The same as `index` (kept for plans written before `index`). */
  readonly id: number;
}

/** What a task gets: the user's HTTP client, a recorder for other requests and run facts. */
export interface TaskContext {
  /** HTTP client of this virtual user; relative paths resolve against the host. */
  readonly http: HttpClient;
  /** Records a non-HTTP request into the stats. */
  record(request: RecordedRequest): void;
  /**
   * A named check, as k6's `check`: counts a pass when `condition` is truthy and a fail when
   * not, under `name` (summary, console, JSON, OTel, Prometheus; thresholds on `checks`), and
   * returns whether it passed. It fails no request: give the request a `check` for that.
   */
  check(name: string, condition: unknown): boolean;
  /** This virtual user: who it is in the whole run, across workers. */
  readonly user: UserInfo;
  /** Facts about the run: `runId`, `testplan`, `host`, tags. */
  readonly run: RunInfo;
  /** Per-user state that lives as long as the user (e.g. a login token). */
  readonly state: Record<string, unknown>;
  /** Aborted when the run stops; pass it to your own clients. */
  readonly signal: AbortSignal;
  /** The plan's data feeds by name: `ctx.data.accounts.next()`. */
  readonly data: Readonly<Record<string, DataFeed>>;
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
  /** Exactly this many users of this kind, whatever the total (instead of a weight). */
  fixed?: number;
  /** Think time after each task: `between(a, b)`, `constant(d)`, a duration (`"2s"`) or seconds. */
  wait?: WaitTime | Duration;
  /** The tasks, by name: a spec, or a bare function of weight 1. */
  tasks: Record<string, TaskSpec | TaskFn>;
  /** Runs once when a user of this kind starts (e.g. log in). */
  onStart?: TaskFn;
  /** Runs once when a user of this kind stops, if the run gives it time. */
  onStop?: TaskFn;
  /** Each user of this kind runs at most this many iterations (tasks), then ends. */
  iterations?: number;
  /**
   * Run this kind as an open model: iterations start at this arrival rate, on a pool of users,
   * whatever the target's speed (see {@link ArrivalSpec}).
   */
  arrival?: ArrivalSpec;
}

/** One stage of an arrival rate: the rate goes linearly to `rate` over `duration`. */
export interface RateStageSpec {
  duration: Duration;
  rate: Rate;
}

/**
 * An open-model kind: iterations (one task each) start on an absolute schedule, each on a free
 * user of the kind's pool. An iteration whose user is not free within `maxLateness` is dropped
 * and counted.
 */
export interface ArrivalSpec {
  /** A constant rate: `"200/s"`, `"50/m"`, or iterations per second. */
  rate?: Rate;
  /** Or a ramping rate: linear ramps from `startRate` (default 0), one after another. */
  stages?: RateStageSpec[];
  startRate?: Rate;
  /** Users started before the first iteration: the pool (default 1). */
  users?: number;
  /** The pool may grow to this many users while iterations wait (default: `users`). */
  maxUsers?: number;
  /** How late an iteration may start before it is dropped (default 1 s; 0: never late). */
  maxLateness?: Duration;
}

/** One stage of a load profile: a linear ramp to `users` over `duration`. */
export interface StageSpec {
  duration: Duration;
  users: number;
}

/** What a shape returns each second: the users to reach and how fast, or null to stop. */
export type ShapeTick = { users: number; spawnRate?: number } | null;

/**
 * The plan's default load; flags and env vars override it. One of: `users` (with `spawnRate`),
 * `stages`, or `shape`.
 */
export interface LoadSpec {
  /** Peak number of concurrent users. */
  users?: number;
  /** Users started per second while ramping up. */
  spawnRate?: number;
  /** How long the run lasts: `30s`, `5m`, `1h30m` or seconds. */
  duration?: Duration;
  /** Linear ramps one after another, from 0 users; the run ends after the last. */
  stages?: StageSpec[];
  /** A function of the elapsed seconds, asked once a second; null ends the run. */
  shape?: (elapsedS: number) => ShapeTick;
  /** The run ends after this many iterations (tasks) in total, over every user and worker. */
  iterations?: number;
  /**
   * Turns every weighted kind into an open model at this arrival rate (split by weight), with
   * `users` as the pool: `"200/s"`, or stages of rates.
   */
  arrivalRate?: Rate | RateStageSpec[];
  /** The arrival-rate pool may grow to this many users (default: `users`). */
  maxUsers?: number;
  /** How late an iteration may start before it is dropped (default 1 s). */
  maxLateness?: Duration;
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
  /** Data files by name (`csv(...)`, `json(...)`): read once, rows in `ctx.data.<name>`. */
  data?: Record<string, DataSource>;
  /**
   * Service objectives that decide the exit code (99 when one is crossed), k6's language:
   * `{ "http.duration": ["p(95)<200"], "http.failures{name:/cart}": ["rate<0.01"] }`.
   */
  thresholds?: Record<string, ThresholdSpec[]>;
}

/** A plan's HTTP defaults; `--http-engine` and `--insecure` win over `engine` and `insecure`. */
export interface PlanHttpOptions {
  /** Request timeout: seconds or a duration such as `"5s"` (default 60 s). */
  timeout?: Duration;
  /** Request timeout in milliseconds, the older way to say `timeout` (not both). */
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
  /** Exactly this many users of the kind, placed before weighted kinds. */
  fixed?: number;
  wait: WaitTime;
  /** For pacing waits: the time from one iteration's start to the next's, in seconds. */
  pacingS?: number;
  /** Iterations each user runs at most. */
  iterations?: number;
  arrival?: ArrivalSpec;
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
