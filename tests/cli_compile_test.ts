// `deno task compile` builds a stampede binary that loads a TypeScript plan from disk and counts
// exactly. deno compile needs Deno's runtime base (denort), which it downloads on first use: where
// it cannot (no DENORT_BIN, nothing in the Deno cache, no way out), this test says so in one line
// and checks nothing more; cli_bundle_loader_test.ts proves the same loader under deno run.
import assert from "node:assert/strict";
import { join } from "node:path";
import { argv, readSummary, ROOT, startCountingServer, tempDir } from "./helpers.ts";

const decoder = new TextDecoder();

/** The `compile` task of deno.json, with its output redirected to `output`. */
async function compileArgs(output: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const words = (config.tasks.compile as string).split(/\s+/);
  assert.equal(words[0], "deno");
  const at = words.indexOf("--output");
  assert.ok(at > 0, "the compile task names its --output");
  words[at + 1] = output;
  return words.slice(1);
}

/** Where deno compile finds its base without downloading it, or null. */
async function cachedBase(): Promise<string | null> {
  const fromEnv = Deno.env.get("DENORT_BIN");
  if (fromEnv) return `DENORT_BIN=${fromEnv}`;
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  const denoDir = JSON.parse(decoder.decode(info.stdout)).denoDir as string;
  const zip = join(
    denoDir,
    "dl",
    "release",
    `v${Deno.version.deno}`,
    `denort-${Deno.build.target}.zip`,
  );
  try {
    await Deno.stat(zip);
    return zip;
  } catch {
    return null;
  }
}

/** A way to start stampede: the compiled binary, or cli.ts under deno run. */
interface Stampede {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** Runs stampede with a safety net; returns its exit code and output. */
async function runStampede(stampede: Stampede, args: string[], cwd: string) {
  const child = new Deno.Command(stampede.command, {
    args: [...stampede.args, ...args],
    cwd,
    env: { NO_COLOR: "1", ...stampede.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const output = await child.output();
  clearTimeout(timer);
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** A user's plan: Stampede as its JSR name (no checkout beside it), a local helper, data. */
const PLAN_FILES: Record<string, string> = {
  "paths.json": `["/a", "/b"]`,
  "lib/names.ts": `export const nameOf = (path: string): string => \`page \${path}\`;`,
  "plan.ts": `import { between, definePlan } from "jsr:@stampede/stampede";
import { nameOf } from "./lib/names.ts";

const paths: string[] = JSON.parse(await Deno.readTextFile(new URL("./paths.json", import.meta.url)));

export default definePlan({
  name: "compiled",
  users: {
    u: {
      wait: between(0.005, 0.02),
      tasks: Object.fromEntries(paths.map((p) => [p, ({ http }) => http.get(p, { name: nameOf(p) })])),
    },
  },
  load: { users: 6 },
});`,
  "npm_plan.ts": `import { definePlan } from "jsr:@stampede/stampede";
import chalk from "npm:chalk@5";
export default definePlan({ users: { u: { tasks: { t: () => { chalk.red("x"); } } } } });`,
};

/**
 * What a user of the binary does, checked: a plan from a folder of its own runs in 2 workers with
 * exact counts, and an npm: import is refused in one line with exit code 3.
 */
async function checkRunsPlans(stampede: Stampede, dir: string): Promise<void> {
  for (const [name, text] of Object.entries(PLAN_FILES)) {
    await Deno.mkdir(join(dir, name, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, name), text);
  }
  const server = startCountingServer();
  try {
    const version = await runStampede(stampede, ["--version"], dir);
    assert.equal(version.code, 0, version.stderr);

    const summaryPath = join(dir, "summary.json");
    const run = await runStampede(
      stampede,
      argv`plan.ts --workers 2 --host ${server.url} --run-time 2s --stop-timeout 2s --summary ${summaryPath}`,
      dir,
    );
    assert.equal(run.code, 0, run.stderr);
    const summary = await readSummary(summaryPath);
    assert.equal(summary.testplan, "compiled");
    assert.equal(summary.workers_failed, 0);
    assert.ok(summary.totals.requests > 20, `only ${summary.totals.requests} requests`);
    const count = (name: string) => summary.endpoints.find((e) => e.name === name)?.requests;
    assert.equal(count("page /a"), server.counts.get("GET /a"));
    assert.equal(count("page /b"), server.counts.get("GET /b"));
    assert.equal(summary.totals.requests, server.total());
    assert.equal(summary.totals.failures, 0);

    const before = server.total();
    const refused = await runStampede(
      stampede,
      argv`npm_plan.ts --host ${server.url} --run-time 1s`,
      dir,
    );
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(
      refused.stderr.trim(),
      /^stampede: error: Cannot load plan ".*npm_plan\.ts": it imports "npm:chalk@5", which a compiled stampede cannot load; [^\n]*$/,
    );
    assert.equal(server.total(), before);
  } finally {
    await server.shutdown();
  }
}

Deno.test("what the binary runs, under deno run with the bundle loader: exact counts, npm: refused", async () => {
  const dir = await tempDir();
  try {
    await checkRunsPlans(
      {
        command: Deno.execPath(),
        args: ["run", "-A", `${ROOT}cli.ts`],
        env: { STAMPEDE_PLAN_LOADER: "bundle" },
      },
      dir.path,
    );
  } finally {
    await dir.remove();
  }
});

Deno.test("the compiled stampede runs a TypeScript plan from disk in 2 workers with exact counts", async () => {
  const dir = await tempDir();
  try {
    const binary = join(dir.path, "stampede");
    const compile = await new Deno.Command(Deno.execPath(), {
      args: await compileArgs(binary),
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const compileErr = decoder.decode(compile.stderr);
    if (!compile.success && /Setting up base binary/.test(compileErr)) {
      const base = await cachedBase();
      assert.equal(base, null, `the base was there (${base}) and still failed:\n${compileErr}`);
      console.log(
        `skip: the compiled binary is not built here: deno compile cannot download its runtime base (denort) for Deno ${Deno.version.deno}; set DENORT_BIN or cache it in the Deno dir to run this test`,
      );
      return;
    }
    assert.ok(compile.success, compileErr);
    // No --plan-loader: a compiled stampede bundles plans by itself.
    await checkRunsPlans({ command: binary, args: [], env: {} }, dir.path);
  } finally {
    await dir.remove();
  }
});
