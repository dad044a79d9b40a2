/**
 * Stampede: load tests for Deno whose results are telemetry first.
 *
 * Define a plan with {@link definePlan}, run it from the CLI (`deno run -A cli.ts plan.ts`)
 * or programmatically with {@link run}, and add recorders of your own.
 * @module
 */
export {
  between,
  constant,
  definePlan,
  type LoadSpec,
  type Plan,
  type PlanHttpOptions,
  type PlanSpec,
  type RecordedRequest,
  type TaskContext,
  type TaskFn,
  type TaskSpec,
  type UserSpec,
  type WaitTime,
} from "./core/plan/plan.ts";
export { ExitCode, PlanError, StampedeError, StopUser, UsageError } from "./core/errors.ts";
export type { HttpClient, HttpCookies, HttpResponse, RequestOptions } from "./core/http/client.ts";
export { HTTP_ENGINES, type HttpEngineName } from "./core/http/engine.ts";
export type {
  FinalSnapshot,
  IntervalSnapshot,
  LifecycleEvent,
  LifecycleEventName,
  LifecycleHandler,
  OutputHandler,
  Recorder,
  RecorderContext,
  RecorderOption,
  RecorderPlugin,
  RequestHandler,
  StopReason,
  SystemHandler,
  SystemSample,
  TextSink,
} from "./core/recorder/recorder.ts";
export type { RunInfo } from "./core/run_info.ts";
export type {
  EndpointStats,
  FailureStats,
  IntervalCell,
  StatsView,
} from "./core/stats/aggregator.ts";
export type { Summary } from "./core/stats/summary.ts";
export { parseDuration } from "./core/duration.ts";
export { VERSION } from "./core/version.ts";
export { run, type RunOptions } from "./run.ts";
