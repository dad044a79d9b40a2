// Loading a plan module: the coordinator does it once to validate, every load worker again to
// run it. Errors name the plan and say what to change. Two loaders: `import` (Deno's module
// loader) and `bundle` (bundle_loader.ts: the plan and its local imports bundled into one script
// that is evaluated here, which is how a compiled stampede loads a plan; docs/compile.md).
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { explainError, PlanError } from "../errors.ts";
import { isPlan, type Plan } from "./plan.ts";
import { PLAN_API } from "./plan_api.ts";

/** The ways a plan module can be loaded. */
export const PLAN_LOADERS = ["import", "bundle"] as const;

/** `import`: Deno's `import()`; `bundle`: esbuild-wasm, then evaluated (a compiled stampede). */
export type PlanLoaderName = typeof PLAN_LOADERS[number];

/**
 * The loader when nothing picks one: `bundle` inside a `deno compile`d stampede, whose
 * `import()` cannot load Stampede's own mod.ts (nor `jsr:`/`npm:` modules) for a plan; else
 * `import`.
 */
export function defaultPlanLoader(): PlanLoaderName {
  return Deno.build.standalone ? "bundle" : "import";
}

/**
 * The free identifiers of a bundle's code: the parameters it is evaluated with. bundle_loader.ts
 * writes code that uses them; {@link importPlan} supplies them.
 */
export const BUNDLE_PARAMS = {
  /** Takes the plan module's namespace (the bundle's last statement). */
  setModule: "__stampedeSetModule",
  /** The values of Stampede's mod.ts ({@link PLAN_API}). */
  mod: "__stampedeMod",
  /** `import.meta` of one bundled file, from its URL. */
  importMetaOf: "__stampedeImportMetaOf",
  /** Imports a `node:` built-in module. */
  importBuiltin: "__stampedeImportBuiltin",
} as const;

/** A loaded plan and, from the bundle loader, the code that load workers evaluate. */
export interface LoadedPlan {
  plan: Plan;
  /** The bundled plan (bundle loader only): workers evaluate it instead of importing the URL. */
  planCode?: string;
}

/** Loads a plan module with `loader` and returns its validated default export. */
export async function loadPlanModule(
  planUrl: string,
  loader: PlanLoaderName,
): Promise<LoadedPlan> {
  if (loader === "import") return { plan: await importPlan(planUrl) };
  // esbuild and its 14 MB of wasm are loaded only when a plan is bundled.
  const { bundlePlan } = await import("./bundle_loader.ts");
  const planCode = await bundlePlan(planUrl);
  return { plan: await importPlan(planUrl, planCode), planCode };
}

/**
 * Imports a plan module and returns its validated default export. With `planCode` (what
 * bundle_loader.ts made of the module) that code is evaluated instead: no module is imported.
 */
export async function importPlan(planUrl: string, planCode?: string): Promise<Plan> {
  let module: Record<string, unknown>;
  try {
    module = planCode === undefined
      ? await import(planUrl)
      : await evaluateBundle(planCode, planUrl);
  } catch (cause) {
    throw new PlanError(`Cannot load plan "${planUrl}": ${explainError(cause)}`, { cause });
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

type BundleBody = (...args: unknown[]) => Promise<void>;
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
  ...paramsAndBody: string[]
) => BundleBody;

/**
 * Runs a bundle as the body of an async function (top-level await keeps working) in strict mode,
 * as a module would run, and returns the plan module's namespace. Stack traces name the bundle
 * after the plan (its lines are the bundle's).
 */
async function evaluateBundle(code: string, planUrl: string): Promise<Record<string, unknown>> {
  let module: Record<string, unknown> | undefined;
  const source = `"use strict";${code}\n//# sourceURL=${planUrl}.bundle.js`;
  const body = new AsyncFunction(...Object.values(BUNDLE_PARAMS), source);
  await body(
    (namespace: Record<string, unknown>) => module = namespace,
    PLAN_API,
    importMetaOf,
    importBuiltin,
  );
  if (module === undefined) throw new Error("the bundled plan did not hand over its module");
  return module;
}

/** What `import.meta` says in a bundled file: its own URL; it is never the main module. */
function importMetaOf(url: string): ImportMeta {
  const isFile = url.startsWith("file:");
  const filename = isFile ? fileURLToPath(url) : undefined;
  return {
    url,
    main: false,
    filename,
    dirname: filename === undefined ? undefined : dirname(filename),
    resolve(specifier: string): string {
      if (!/^(\.{0,2}\/|[a-z][a-z0-9+.-]*:)/i.test(specifier)) {
        throw new TypeError(
          `Cannot resolve "${specifier}" from a bundled plan: it reads no import map`,
        );
      }
      return new URL(specifier, url).href;
    },
  };
}

/** Built-in `node:` modules are part of every Deno, compiled or not. */
function importBuiltin(specifier: string): Promise<unknown> {
  if (!specifier.startsWith("node:")) {
    return Promise.reject(new TypeError(`Cannot import "${specifier}": not a node: built-in`));
  }
  return import(specifier);
}
