// The bundle plan loader: a plan module and its local imports bundled by esbuild-wasm into one
// script with no import or export left, which plan_loader.ts evaluates. A compiled stampede
// loads plans this way: its own import() cannot give a plan Stampede's mod.ts (that lives in the
// binary, not beside the plan), nor jsr:, npm: or remote modules. docs/compile.md has the rules.
import { basename, dirname, extname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "npm:esbuild-wasm@0.28.2/esm/browser.js";
import { describeError, PlanError } from "../errors.ts";
import { BUNDLE_PARAMS } from "./plan_loader.ts";
import { PLAN_API } from "./plan_api.ts";

/** The package name in Stampede's deno.json: a `mod.ts` beside it is Stampede's own. */
const PACKAGE_NAME = "@stampede/stampede";
/** `jsr:@stampede/stampede`, any version, no subpath (or `/mod.ts`). */
const JSR_MOD = /^jsr:\/?@stampede\/stampede(@[^/]+)?\/?(mod\.ts)?$/;
/** The identifier each bundled file's `import.meta` becomes; declared at the top of the file. */
const IMPORT_META = "__stampedeImportMeta";
/** The name of the bundle's entry (which imports the plan) in esbuild's messages. */
const ENTRY_NAME = "stampede-plan-entry.js";
/** The object holding the `node:` built-ins a bundle uses, filled before its code runs. */
const BUILTINS = "__stampedeBuiltins";

const LOADERS: Record<string, esbuild.Loader> = {
  ".ts": "ts",
  ".mts": "ts",
  ".cts": "ts",
  ".tsx": "tsx",
  ".js": "js",
  ".mjs": "js",
  ".cjs": "js",
  ".jsx": "jsx",
  ".json": "json",
};

let started: Promise<void> | null = null;

/** Starts esbuild once per process, on this thread (no worker, no child process, no download). */
function startEsbuild(): Promise<void> {
  started ??= (async () => {
    const wasmUrl = new URL(import.meta.resolve("npm:esbuild-wasm@0.28.2/esbuild.wasm"));
    const wasmModule = await WebAssembly.compile(await Deno.readFile(wasmUrl));
    await esbuild.initialize({ wasmModule, worker: false });
  })();
  started.catch(() => started = null);
  return started;
}

/** An import the bundle loader will not follow, and who made it. */
interface Refusal {
  specifier: string;
  importer: string;
  why: string;
}

/**
 * Bundles the plan module at `planUrl` (a `file:` URL) and its local imports into one script
 * for `importPlan(planUrl, code)`. Imports of Stampede's mod.ts (by path, or as
 * `jsr:@stampede/stampede`) become this process's own API; `node:` built-ins are imported at
 * evaluation; any other non-local import is refused with a {@link PlanError}.
 */
export async function bundlePlan(planUrl: string): Promise<string> {
  if (!planUrl.startsWith("file:")) {
    throw new PlanError(
      `Cannot load plan "${planUrl}": the bundle plan loader (a compiled stampede) reads plans from local files only`,
    );
  }
  try {
    await startEsbuild();
  } catch (cause) {
    throw new PlanError(
      `Cannot load plan "${planUrl}": esbuild did not start: ${describeError(cause)}`,
      { cause },
    );
  }
  const refusals: Refusal[] = [];
  const builtins = new Set<string>();
  let result: esbuild.BuildResult<{ write: false }>;
  try {
    result = await esbuild.build({
      stdin: {
        contents: `import * as plan from ${
          JSON.stringify(planUrl)
        };\n${BUNDLE_PARAMS.setModule}(plan);\n`,
        loader: "js",
        sourcefile: ENTRY_NAME,
      },
      bundle: true,
      write: false,
      format: "esm",
      platform: "neutral",
      target: "esnext",
      // Names survive esbuild's renaming of clashes: an error class's name can be a failure's text.
      keepNames: true,
      logLevel: "silent",
      define: { "import.meta": IMPORT_META },
      plugins: [planPlugin(refusals, builtins)],
    });
  } catch (cause) {
    const text = failureText(cause, refusals, fileURLToPath(planUrl));
    throw new PlanError(`Cannot load plan "${planUrl}": ${text}`, { cause });
  }
  const code = result.outputFiles[0].text;
  if (builtins.size === 0) return code;
  // The built-ins are imported before the bundle runs; their shims read them synchronously.
  const entries = [...builtins].map((s) =>
    `${JSON.stringify(s)}: await ${BUNDLE_PARAMS.importBuiltin}(${JSON.stringify(s)})`
  );
  return `const ${BUILTINS} = { ${entries.join(", ")} };\n${code}`;
}

/** The one line a failed build is reported with: a refused import, else esbuild's first error. */
function failureText(cause: unknown, refusals: Refusal[], planPath: string): string {
  const refusal = refusals[0];
  if (refusal) {
    const who = refusal.importer === planPath || refusal.importer === ""
      ? "it"
      : relative(dirname(planPath), refusal.importer);
    return `${who} imports "${refusal.specifier}", ${refusal.why}`;
  }
  const errors = (cause as Partial<esbuild.BuildFailure>).errors;
  const first = errors?.[0];
  if (!first) return describeError(cause);
  const where = first.location;
  // esbuild names files of the default namespace by their path without the leading slash.
  const inFile = where && (where.namespace === "" || where.namespace === "file") &&
    where.file !== ENTRY_NAME;
  const at = inFile ? ` (${basename(where.file)}:${where.line}:${where.column + 1})` : "";
  return `${first.text}${at}`;
}

/** Resolves and loads a plan's files from disk; maps Stampede's API; refuses the rest. */
function planPlugin(refusals: Refusal[], builtins: Set<string>): esbuild.Plugin {
  const stampedeDirs = new Map<string, Promise<boolean>>();
  const isStampedeMod = (path: string): Promise<boolean> => {
    if (basename(path) !== "mod.ts") return Promise.resolve(false);
    const dir = dirname(path);
    let known = stampedeDirs.get(dir);
    if (!known) stampedeDirs.set(dir, known = isStampedeDir(dir));
    return known;
  };
  return {
    name: "stampede-plan",
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        const specifier = args.path;
        const importer = args.namespace === "file" ? args.importer : "";
        if (JSR_MOD.test(specifier)) return { path: "mod", namespace: "stampede" };
        if (specifier.startsWith("node:")) {
          builtins.add(specifier);
          return { path: specifier, namespace: "builtin" };
        }
        const path = localPath(specifier, importer);
        if (path === null) {
          refusals.push({ specifier, importer, why: whyRefused(specifier) });
          return { errors: [{ text: `refused "${specifier}"` }] };
        }
        if (await isStampedeMod(path)) return { path: "mod", namespace: "stampede" };
        return { path, namespace: "file" };
      });
      build.onLoad({ filter: /.*/, namespace: "stampede" }, () => ({
        contents: Object.keys(PLAN_API)
          .map((name) => `export const ${name} = ${BUNDLE_PARAMS.mod}.${name};`)
          .join("\n"),
        loader: "js",
      }));
      build.onLoad({ filter: /.*/, namespace: "builtin" }, (args) => ({
        contents: `module.exports = ${BUILTINS}[${JSON.stringify(args.path)}];`,
        loader: "js",
      }));
      build.onLoad({ filter: /.*/, namespace: "file" }, async (args) => {
        const loader = LOADERS[extname(args.path).toLowerCase()];
        if (!loader) {
          return {
            errors: [{
              text: `Cannot bundle "${basename(args.path)}": the bundle plan loader reads ${
                Object.keys(LOADERS).join(", ")
              } files`,
            }],
          };
        }
        let text: string;
        try {
          text = await Deno.readTextFile(args.path);
        } catch (error) {
          const url = pathToFileURL(args.path).href;
          const why = error instanceof Deno.errors.NotFound
            ? `Module not found "${url}"`
            : `Cannot read "${url}": ${describeError(error)}`;
          return { errors: [{ text: why }] };
        }
        return {
          contents: withImportMeta(text, args.path),
          loader,
          resolveDir: dirname(args.path),
        };
      });
    },
  };
}

/**
 * Declares the file's own `import.meta` at its top (esbuild's define turns every `import.meta`
 * into that name, bound per file); on the first line, so line numbers stay true.
 */
function withImportMeta(text: string, path: string): string {
  if (!text.includes("import.meta")) return text;
  const declaration = `var ${IMPORT_META} = ${BUNDLE_PARAMS.importMetaOf}(${
    JSON.stringify(pathToFileURL(path).href)
  });`;
  if (!text.startsWith("#!")) return declaration + text;
  const eol = text.indexOf("\n");
  return eol < 0 ? text : `${text.slice(0, eol + 1)}${declaration}${text.slice(eol + 1)}`;
}

/** The file a local specifier names, or null for anything that is not a local file. */
function localPath(specifier: string, importer: string): string | null {
  if (specifier.startsWith("file:")) return fileURLToPath(specifier);
  if (specifier.startsWith("/")) return specifier;
  if (specifier.startsWith("./") || specifier.startsWith("../")) {
    if (importer === "") return null;
    return join(dirname(importer), specifier);
  }
  return null;
}

/** Why a specifier is not followed, and what to do instead. */
function whyRefused(specifier: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(specifier)?.[1];
  const instead =
    "import local files only (copy the module beside the plan), or run the plan with deno run -A cli.ts --plan-loader import";
  if (scheme === undefined) {
    return `a bare specifier, which a compiled stampede cannot resolve (it reads no import map); ${instead}`;
  }
  return `which a compiled stampede cannot load; ${instead}`;
}

/** Whether `dir` holds Stampede's deno.json. */
async function isStampedeDir(dir: string): Promise<boolean> {
  try {
    const config = JSON.parse(await Deno.readTextFile(join(dir, "deno.json")));
    return config?.name === PACKAGE_NAME;
  } catch {
    return false;
  }
}
