// Where a run's plan comes from: a plan object, or a module imported or bundled within the load
// timeout; its data files read once; its name.
import { basename, extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { formatDuration } from "../duration.ts";
import { PlanError, UsageError } from "../errors.ts";
import { isPlan, type Plan } from "../plan/plan.ts";
import {
  defaultPlanLoader,
  loadPlanModule,
  PLAN_LOADERS,
  type PlanLoaderName,
} from "../plan/plan_loader.ts";
import { loadTable, type SharedTable } from "../run/data_table.ts";
import { ABORTED, settleWithin } from "../timers.ts";
import type { RunOptions } from "./run_options.ts";

/** Resolves a plan path or URL against the working directory. */
export function planUrlOf(path: string | URL): string {
  if (path instanceof URL) return path.href;
  return /^(file|https?):/.test(path) ? path : pathToFileURL(resolve(path)).href;
}

/**
 * The plan loader asked for, else the default (`bundle` in a compiled stampede, and always for a
 * coordinator: its workers get the bundled plan).
 */
export function resolvePlanLoader(options: RunOptions): PlanLoaderName {
  if (options.distributed && options.planLoader === "import") {
    throw new UsageError(
      "Cannot use --plan-loader import with --coordinator: the workers get the plan bundled",
    );
  }
  const loader = options.planLoader ?? (options.distributed ? "bundle" : defaultPlanLoader());
  if (!(PLAN_LOADERS as readonly string[]).includes(loader)) {
    throw new UsageError(
      `Cannot use plan loader "${loader}": it is not one of ${PLAN_LOADERS.join(", ")}`,
    );
  }
  return loader;
}

/**
 * The plan object and, when it came from (or names) a module, that module's URL and (bundle
 * loader) its bundled code. A module that does not finish loading within `loadTimeoutMs` fails;
 * `plan` is null when a signal came first.
 */
export async function loadPlan(
  plan: Plan | string | URL,
  options: RunOptions,
  loadTimeoutMs: number,
): Promise<{ plan: Plan | null; planUrl: string | null; planCode?: string }> {
  if (isPlan(plan)) {
    if (options.distributed) {
      throw new UsageError(
        "Cannot coordinate workers for a plan object: pass the path of its module, which the workers get bundled",
      );
    }
    return { plan, planUrl: options.planUrl ? planUrlOf(options.planUrl) : null };
  }
  if (typeof plan !== "string" && !(plan instanceof URL)) {
    throw new PlanError("Cannot run plan: pass definePlan({...}) or the path of a plan module");
  }
  const planUrl = planUrlOf(plan);
  const loader = resolvePlanLoader(options);
  // With the bundle loader, the wait includes bundling (about 1-2 s for esbuild to start).
  const loaded = await settleWithin(
    loadPlanModule(planUrl, loader),
    loadTimeoutMs,
    () =>
      new PlanError(
        `Cannot load plan "${planUrl}": it did not finish loading within ${
          formatDuration(loadTimeoutMs)
        } (a top-level await that never settles?); raise --load-timeout if it needs longer`,
      ),
    options.signal,
  );
  if (loaded === ABORTED) return { plan: null, planUrl };
  return { plan: loaded.plan, planUrl, planCode: loaded.planCode };
}

/** Reads the plan's data files, once, into memory its workers share. */
export async function loadData(plan: Plan, planUrl: string | null): Promise<SharedTable[]> {
  const tables: SharedTable[] = [];
  for (const [name, source] of Object.entries(plan.data ?? {})) {
    tables.push(await loadTable(name, source, planUrl ?? "inline:"));
  }
  return tables;
}

/** The run's name from its plan module's file name. */
export function planName(planUrl: string | null): string {
  if (planUrl === null) return "plan";
  const path = new URL(planUrl).pathname;
  return basename(path, extname(path));
}
