/**
 * Stampede: load tests for Deno whose results are telemetry first.
 *
 * For plan authors and library users: define a plan with {@link definePlan}, run it from the CLI
 * (`deno run -A cli.ts plan.ts`) or from code with {@link run}. Recorder plugin authors import
 * the recorder contract from the `./recorder` export instead.
 * @module
 */
export {
  type ArrivalSpec,
  between,
  constant,
  constantPacing,
  constantThroughput,
  csv,
  type DataFeed,
  type DataOptions,
  type DataOrder,
  type DataSource,
  definePlan,
  type Duration,
  json,
  type LoadSpec,
  type Plan,
  type PlanHttpOptions,
  type PlanSpec,
  type RateStageSpec,
  type RecordedRequest,
  type TaskContext,
  type TaskFn,
  type TaskSpec,
  type UserInfo,
  type UserSpec,
  type WaitTime,
} from "./core/plan/plan.ts";
export {
  DataExhausted,
  ExitCode,
  PlanError,
  RunError,
  StampedeError,
  StopUser,
  UsageError,
} from "./core/errors.ts";
export type {
  CheckOutcome,
  HttpClient,
  HttpCookies,
  HttpResponse,
  RequestOptions,
  ResponseCheck,
} from "./core/http/client.ts";
export type { Rate } from "./core/rate.ts";
export { HTTP_ENGINES, type HttpEngineName } from "./core/http/engine.ts";
export type { RunInfo, StopReason } from "./core/run_info.ts";
export type { DistributedOptions } from "./core/run/distributed.ts";
export type { Summary } from "./core/stats/summary.ts";
export { VERSION } from "./core/version.ts";
export { run, type RunOptions } from "./run.ts";
