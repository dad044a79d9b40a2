// The command line picks the HTTP engine (flag or env var, over the plan's), refuses a bad one,
// and refuses --insecure with fetch with a reason; a plan's own http settings are checked early.
import assert from "node:assert/strict";
import type { HttpEngineName } from "../core/http/engine.ts";
import { definePlan } from "../core/plan/plan.ts";
import { ROOT, runCli, runCliWithSummary, startCountingServer } from "./helpers.ts";

const ENGINES: HttpEngineName[] = ["h1", "fetch"];

Deno.test("the command line picks the engine; --insecure with fetch is refused with a reason", async () => {
  const target = startCountingServer();
  try {
    const plan = `${ROOT}tests/plans/counting.plan.ts`;
    for (const engine of ENGINES) {
      const { code, stderr, summary } = await runCliWithSummary(
        [plan, "--host", target.url, "--run-time", "1s", "--workers", "1"],
        { env: { STAMPEDE_HTTP_ENGINE: engine } },
      );
      assert.equal(code, 0, stderr);
      assert.ok(summary.totals.requests > 0);
    }
    const bad = await runCli([plan, "--host", target.url, "--http-engine", "h2"]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--http-engine.*h2.*invalid.*h1, fetch/);
    const insecure = await runCli([
      plan,
      "--host",
      target.url,
      "--run-time",
      "1s",
      "--http-engine",
      "fetch",
      "--insecure",
    ]);
    assert.equal(insecure.code, 2, insecure.stderr);
    const notInsecure = await runCli(
      [plan, "--host", target.url, "--run-time", "500ms", "--http-engine", "fetch"],
      { env: { STAMPEDE_INSECURE: "false" } },
    );
    assert.equal(notInsecure.code, 0, `STAMPEDE_INSECURE=false is false: ${notInsecure.stderr}`);
    assert.match(
      insecure.stderr,
      /^stampede: error: Cannot skip certificate checks with the HTTP engine "fetch": .*--unsafely-ignore-certificate-errors/,
    );
  } finally {
    await target.shutdown();
  }
});

Deno.test("a plan's http.engine and http.insecure are checked when it is defined", () => {
  const users = { u: { tasks: { t: () => {} } } };
  assert.throws(
    () => definePlan({ users, http: { engine: "h3" as HttpEngineName } }),
    /Cannot use plan: http.engine "h3" is not one of h1, fetch/,
  );
  assert.throws(
    () => definePlan({ users, http: { insecure: "yes" as unknown as boolean } }),
    /Cannot use plan: http.insecure must be true or false/,
  );
  assert.ok(definePlan({ users, http: { engine: "fetch", insecure: false } }));
});
