// Loading a plan module: the coordinator does it once to validate, every load worker again to
// run it. Errors name the plan and say what to change.
import { describeError, PlanError } from "../errors.ts";
import { isPlan, type Plan } from "./plan.ts";

/** Imports a plan module and returns its validated default export. */
export async function importPlan(planUrl: string): Promise<Plan> {
  let module: Record<string, unknown>;
  try {
    module = await import(planUrl);
  } catch (cause) {
    throw new PlanError(`Cannot load plan "${planUrl}": ${describeError(cause)}`, { cause });
  }
  const plan = module.default;
  if (plan === undefined) {
    throw new PlanError(
      `Cannot load plan "${planUrl}": it has no default export; end it with export default definePlan({...})`,
    );
  }
  if (!isPlan(plan)) {
    throw new PlanError(
      `Cannot load plan "${planUrl}": its default export is not a plan; wrap it in definePlan({...})`,
    );
  }
  return plan;
}
