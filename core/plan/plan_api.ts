// What a bundled plan gets where it imports Stampede's mod.ts: this process's own definePlan,
// errors and constants. A compiled stampede has no mod.ts on disk for a plan to import, and a
// second copy loaded from a checkout would have its own StopUser class, which the running
// Stampede would not recognise (`instanceof`). core/ may not import mod.ts, so the values are
// gathered here; plan_api_test.ts checks that the names match mod.ts's exports.
import {
  DataExhausted,
  ExitCode,
  PlanError,
  RunError,
  StampedeError,
  StopUser,
  UsageError,
} from "../errors.ts";
import { HTTP_ENGINES } from "../http/engine.ts";
import { VERSION } from "../version.ts";
import { csv, json } from "./data.ts";
import { between, constant, constantPacing, constantThroughput, definePlan } from "./plan.ts";

/**
 * Stands in for `run` inside a bundled plan: a plan is run by the stampede that loads it, not
 * from within itself.
 */
function runFromBundledPlan(): Promise<never> {
  return Promise.reject(
    new UsageError(
      "Cannot call run() from a plan loaded by the bundle plan loader (a compiled stampede): the stampede that loads the plan runs it; export default definePlan({...}) instead",
    ),
  );
}

/** The values of mod.ts's exports, as a bundled plan sees them (types have no value). */
export const PLAN_API: Readonly<Record<string, unknown>> = Object.freeze({
  between,
  constant,
  constantPacing,
  constantThroughput,
  csv,
  definePlan,
  json,
  DataExhausted,
  ExitCode,
  PlanError,
  RunError,
  StampedeError,
  StopUser,
  UsageError,
  HTTP_ENGINES,
  VERSION,
  run: runFromBundledPlan,
});
