// The bundle plan loader (what a compiled stampede uses) driven through cli.ts under deno run: a
// plan outside the repository runs in Web Workers with exact counts, a plan it cannot load is
// refused in one line, and test plans run the same under both loaders.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  argv,
  type CountingServer,
  freePort,
  ROOT,
  runCli,
  runCliWithSummary,
  startCountingServer,
  tempDir,
} from "./helpers.ts";
import type { Summary } from "../core/stats/summary.ts";

/** Requests per endpoint as the summary tells them. */
function reported(summary: Summary): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of summary.endpoints) counts[`${e.method} ${e.name}`] = e.requests;
  return counts;
}

/** Requests per endpoint as the server saw them, dynamic paths grouped as the plans name them. */
function served(server: CountingServer): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [key, n] of server.counts) {
    const name = key.replace(/^GET \/item\/\d+$/, "GET /item/:id");
    counts[name] = (counts[name] ?? 0) + n;
  }
  return counts;
}

/** A plan in a folder of its own: Stampede by absolute path, a helper, data beside it. */
const OUTSIDE_PLAN = {
  "paths.json": `["/a", "/b"]`,
  "lib/names.ts": `// A local helper module, bundled with the plan.
export function itemName(path: string): string {
  return path === "/a" ? "/a" : \`\${path}:item\`;
}
export const helperFile: string = new URL(import.meta.url).pathname;`,
  "plan.ts": `import { between, definePlan } from ${JSON.stringify(`${ROOT}mod.ts`)};
import { helperFile, itemName } from "./lib/names.ts";

// A top-level await that reads a file found through import.meta.url.
const paths: string[] = JSON.parse(await Deno.readTextFile(new URL("./paths.json", import.meta.url)));
if (!helperFile.endsWith("/lib/names.ts")) throw new Error(\`import.meta.url of the helper: \${helperFile}\`);

export default definePlan({
  name: "outside",
  users: {
    u: {
      wait: between(0.005, 0.02),
      tasks: Object.fromEntries(
        paths.map((path) => [path, ({ http }) => http.get(path, { name: itemName(path) })]),
      ),
    },
  },
  load: { users: 6 },
});`,
};

async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(join(dir, name, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, name), text);
  }
}

Deno.test("bundle loader: a plan outside the repository runs in 2 workers; the counts equal the server's", async () => {
  const dir = await tempDir();
  const server = startCountingServer();
  try {
    await writeFiles(dir.path, OUTSIDE_PLAN);
    const { code, stderr, summary } = await runCliWithSummary(
      argv`${dir.path}/plan.ts --plan-loader bundle --workers 2 --host ${server.url} --run-time 2s --stop-timeout 2s`,
      { cwd: dir.path },
    );
    assert.equal(code, 0, stderr);
    assert.equal(summary.testplan, "outside");
    assert.equal(summary.workers_failed, 0);
    assert.ok(summary.totals.requests > 20, `only ${summary.totals.requests} requests`);
    assert.deepEqual(Object.keys(reported(summary)).sort(), ["GET /a", "GET /b:item"]);
    assert.equal(reported(summary)["GET /a"], server.counts.get("GET /a"));
    assert.equal(reported(summary)["GET /b:item"], server.counts.get("GET /b"));
    assert.equal(summary.totals.requests, server.total());
    assert.equal(summary.totals.failures, 0);
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});

Deno.test("bundle loader: an npm: import is refused in one line, exit code 3, no request sent", async () => {
  const dir = await tempDir();
  const server = startCountingServer();
  try {
    await writeFiles(dir.path, {
      "plan.ts": `import { definePlan } from ${JSON.stringify(`${ROOT}mod.ts`)};
import chalk from "npm:chalk@5";
export default definePlan({ users: { u: { tasks: { t: () => { chalk.red("x"); } } } } });`,
    });
    const result = await runCli(
      argv`${dir.path}/plan.ts --plan-loader bundle --host ${server.url} --run-time 1s`,
    );
    assert.equal(result.code, 3, result.stderr);
    const lines = result.stderr.trim().split("\n");
    assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
    assert.match(
      lines[0],
      /^stampede: error: Cannot load plan ".*\/plan\.ts": it imports "npm:chalk@5", which a compiled stampede cannot load; /,
    );
    assert.equal(server.total(), 0);
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});

Deno.test("a plan loader that does not exist is refused with exit code 2", async () => {
  const result = await runCli(
    argv`${ROOT}tests/plans/counting.plan.ts --host http://127.0.0.1:9 --run-time 1s`,
    { env: { STAMPEDE_PLAN_LOADER: "eval" } },
  );
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /--plan-loader.*'eval'.* is invalid.*import, bundle/);
});

for (const loader of ["import", "bundle"]) {
  Deno.test(`${loader} loader: counting.plan.ts in 2 workers counts exactly what the server saw`, async () => {
    const server = startCountingServer();
    try {
      const { code, stderr, summary } = await runCliWithSummary(
        argv`${ROOT}tests/plans/counting.plan.ts --workers 2 --host ${server.url} --run-time 2s --stop-timeout 2s`,
        { env: { STAMPEDE_PLAN_LOADER: loader } },
      );
      assert.equal(code, 0, stderr);
      assert.ok(summary.totals.requests > 50, `only ${summary.totals.requests} requests`);
      assert.deepEqual(reported(summary), served(server));
      assert.equal(summary.users, 8);
    } finally {
      await server.shutdown();
    }
  });

  Deno.test(`${loader} loader: failures.plan.ts reports each kind of failure with the same text`, async () => {
    const server = startCountingServer((req, url) => {
      if (url.pathname === "/500") return new Response("oops", { status: 500 });
      if (url.pathname === "/hang") {
        return new Promise((resolve) =>
          req.signal.addEventListener("abort", () => resolve(new Response("late")))
        );
      }
      return new Response("ok");
    });
    try {
      const { code, stderr, summary } = await runCliWithSummary(
        argv`${ROOT}tests/plans/failures.plan.ts --plan-loader ${loader} --workers 2 --host ${server.url} --run-time 2s --stop-timeout 1s`,
        { env: { REFUSED_URL: `http://127.0.0.1:${freePort()}/x` } },
      );
      assert.equal(code, 1, stderr); // failed requests, no thresholds
      const texts = Object.fromEntries(
        summary.failures.map((f) => [`${f.method} ${f.name}`, f.error]),
      );
      assert.equal(texts["TASK boom"], "Error: boom");
      assert.equal(texts["GET /500"], "HTTP 500");
      assert.match(texts["GET refused"] ?? "", /^ConnectionRefused/);
      assert.equal(texts["GET /hang"], "Timeout: no response within 200 ms");
      assert.equal(reported(summary)["GET /ok"], server.counts.get("GET /ok"));
    } finally {
      await server.shutdown();
    }
  });
}

Deno.test("bundle loader: a plan that never finishes loading fails within --load-timeout, here and in the workers", async () => {
  const server = startCountingServer();
  try {
    const here = await runCli(
      argv`${ROOT}tests/plans/bad/never_loads.plan.ts --plan-loader bundle --load-timeout 5s --host ${server.url} --run-time 1s`,
    );
    assert.equal(here.code, 3, here.stderr);
    assert.match(
      here.stderr,
      /^stampede: error: Cannot load plan ".*never_loads\.plan\.ts": it did not finish loading within 5s/,
    );
    const inWorkers = await runCli(
      argv`${ROOT}tests/plans/never_loads_in_workers.plan.ts --plan-loader bundle --workers 2 --load-timeout 2s --host ${server.url} --run-time 1s`,
    );
    assert.equal(inWorkers.code, 4, inWorkers.stderr);
    assert.match(
      inWorkers.stderr,
      /Cannot start load workers: the plan did not load in every worker within 2s/,
    );
    assert.equal(server.total(), 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("bundle loader: Ctrl-C while the plan loads: exit 130 at once, with a summary", async () => {
  const server = startCountingServer();
  try {
    const start = performance.now();
    const result = await runCliWithSummary(
      argv`${ROOT}tests/plans/bad/never_loads.plan.ts --plan-loader bundle --host ${server.url} --run-time 5s`,
      { signal: "SIGINT", signalAfterMs: 3000, timeoutMs: 20_000 },
    );
    assert.equal(result.code, 130, result.stderr);
    assert.ok(performance.now() - start < 12_000, "it did not wait for the load timeout");
    assert.equal(result.summary.stop_reason, "interrupted");
    assert.equal(server.total(), 0);
  } finally {
    await server.shutdown();
  }
});
