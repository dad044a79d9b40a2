// The architecture's one rule, checked: dependencies point one way,
// plan -> http -> stats <- run -> recorder, core/ never imports recorders/, and nothing below
// the entry points imports cli/. See docs/architecture.md. A test that fails names the import that runs the wrong way.
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";

const ROOT = new URL("../", import.meta.url).pathname;

/**
 * Which areas each area may import (its own included). `root` is core/*.ts: shared kernel;
 * `entry` the entry points at the top (cli.ts, run.ts, mod.ts, recorder.ts), which only cli/
 * (the command line's pieces) imports.
 */
const ALLOWED: Record<string, readonly string[]> = {
  root: ["root"],
  plan: ["root", "plan", "http"],
  http: ["root", "http", "stats"],
  stats: ["root", "stats"],
  run: ["root", "run", "plan", "http", "stats", "recorder"],
  config: ["root", "config", "plan", "http", "stats", "run", "recorder"],
  recorder: ["root", "recorder", "stats"],
  recorders: ["root", "recorder", "stats", "recorders"],
  cli: ["root", "plan", "http", "stats", "run", "recorder", "config", "recorders", "cli", "entry"],
};

/** The area of a repository path, or null outside core/, recorders/, cli/ and the entry points. */
export function areaOf(path: string): string | null {
  const parts = path.split("/");
  if (parts.length === 1 && parts[0].endsWith(".ts") && !parts[0].endsWith("_test.ts")) {
    return "entry";
  }
  if (parts[0] === "recorders" || parts[0] === "cli") return parts[0];
  if (parts[0] !== "core") return null;
  return parts.length === 2 ? "root" : parts[1];
}

/** Every module specifier a TypeScript source imports or re-exports, static or dynamic. */
export function importsOf(source: string): string[] {
  const found: string[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"']+)["']/g;
  for (const match of source.matchAll(pattern)) found.push(match[1]);
  return found;
}

/** The wrong-way imports among `files` (repository paths and their text). */
export function violations(files: { path: string; text: string }[]): string[] {
  const problems: string[] = [];
  for (const { path, text } of files) {
    const from = areaOf(path);
    if (from === null) continue;
    for (const spec of importsOf(text)) {
      if (spec.startsWith("@opentelemetry/") && !path.startsWith("recorders/otel/")) {
        problems.push(`${path} imports ${spec}: only recorders/otel/ imports OpenTelemetry`);
      }
      if (!spec.startsWith(".")) continue;
      const target = relative(ROOT, join(dirname(join(ROOT, path)), spec));
      const to = areaOf(target);
      if (to === null) {
        problems.push(
          `${path} imports ${target}: core/, recorders/ and cli/ import only each other`,
        );
      } else if (!ALLOWED[from].includes(to)) {
        problems.push(
          `${path} (${from}) imports ${target} (${to}): ${from} may import ${
            ALLOWED[from].join(", ")
          }`,
        );
      }
    }
    if (/\bDeno\.(exit|args)\b/.test(text)) {
      problems.push(`${path} reads Deno.args or calls Deno.exit: only cli.ts does`);
    }
  }
  return problems;
}

async function sources(dir: string): Promise<{ path: string; text: string }[]> {
  const out: { path: string; text: string }[] = [];
  for await (const entry of Deno.readDir(join(ROOT, dir))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...await sources(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
      out.push({ path, text: await Deno.readTextFile(join(ROOT, path)) });
    }
  }
  return out;
}

Deno.test("dependencies point one way: plan -> http -> stats <- run -> recorder; core never imports recorders", async () => {
  const files = [...await sources("core"), ...await sources("recorders"), ...await sources("cli")];
  assert.ok(files.length > 40, `only ${files.length} source files found`);
  assert.deepEqual(violations(files), []);
});

Deno.test("the dependency check catches an import that runs the wrong way", () => {
  assert.deepEqual(
    violations([
      { path: "core/stats/summary.ts", text: 'import type { X } from "../run/coordinator.ts";' },
      { path: "core/http/client.ts", text: 'export { y } from "../../recorders/json.ts";' },
      { path: "core/run/x.ts", text: 'const m = await import("@opentelemetry/api");' },
      { path: "core/plan/plan.ts", text: 'import "../http/types.ts";\nDeno.exit(1);' },
      { path: "core/run/y.ts", text: 'import { run } from "../../run.ts";' },
      { path: "recorders/z.ts", text: 'import { RUN_FLAGS } from "../cli/run_flags.ts";' },
      { path: "cli/run_command.ts", text: 'import type { RunOptions } from "../run.ts";' },
    ]),
    [
      "core/stats/summary.ts (stats) imports core/run/coordinator.ts (run): stats may import root, stats",
      "core/http/client.ts (http) imports recorders/json.ts (recorders): http may import root, http, stats",
      "core/run/x.ts imports @opentelemetry/api: only recorders/otel/ imports OpenTelemetry",
      "core/plan/plan.ts reads Deno.args or calls Deno.exit: only cli.ts does",
      "core/run/y.ts (run) imports run.ts (entry): run may import root, run, plan, http, stats, recorder",
      "recorders/z.ts (recorders) imports cli/run_flags.ts (cli): recorders may import root, recorder, stats, recorders",
    ],
  );
});

Deno.test("library code imports packages by npm: specifier at the version deno.json pins", async () => {
  // Stampede is imported by path from other projects, whose import maps know nothing of ours: a
  // bare specifier ("@logtape/logtape") would not resolve there.
  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  const pinned = new Set(Object.values(config.imports as Record<string, string>));
  const files = [
    ...await sources("core"),
    ...await sources("recorders"),
    ...await sources("cli"),
    ...await Promise.all(
      ["cli.ts", "run.ts", "mod.ts", "recorder.ts"].map(async (path) => ({
        path,
        text: await Deno.readTextFile(join(ROOT, path)),
      })),
    ),
  ];
  const problems: string[] = [];
  for (const { path, text } of files) {
    for (const spec of importsOf(text)) {
      if (spec.startsWith(".") || spec.startsWith("node:") || spec.startsWith("$")) continue;
      if (!spec.startsWith("npm:")) {
        problems.push(`${path} imports "${spec}": use the npm: specifier deno.json pins`);
        continue;
      }
      const pkg = spec.match(/^npm:(@?[^@/]+(?:\/[^@/]+)?@[^/]+)/)?.[1];
      if (!pkg || !pinned.has(`npm:${pkg}`)) {
        problems.push(`${path} imports "${spec}": not the version deno.json's imports pin`);
      }
    }
  }
  assert.deepEqual(problems, []);
});
