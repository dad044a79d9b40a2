// Data feeders end to end: the target records which account logged in.
import assert from "node:assert/strict";
import { argv, ROOT, runCliWithSummary, startCountingServer } from "./helpers.ts";

const PLAN = `${ROOT}tests/plans/data_unique.plan.ts`;

/** A target that records the user of every login. */
function loginTarget() {
  const logins: string[] = [];
  const server = startCountingServer(async (req, url) => {
    if (url.pathname === "/login") logins.push((await req.json()).user);
    return new Response("ok");
  });
  return { server, logins };
}

Deno.test("unique rows: 100 users on 2 workers log in with 100 different accounts", async () => {
  const { server, logins } = loginTarget();
  try {
    const result = await runCliWithSummary(
      argv`${PLAN} --host ${server.url} --users 100 --workers 2 --run-time 2s --stop-timeout 5s`,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(logins.length, 100);
    assert.equal(new Set(logins).size, 100, "no account was given twice");
    assert.ok(logins.every((u) => /^user\d+$/.test(u)));
    assert.equal(result.summary.totals.requests, server.total());
  } finally {
    await server.shutdown();
  }
});

Deno.test("unique rows running out: each account once, the users left end, said once", async () => {
  const { server, logins } = loginTarget();
  try {
    const result = await runCliWithSummary(
      argv`${PLAN} --host ${server.url} --users 200 --workers 2 --run-time 2s --stop-timeout 5s`,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(logins.length, 150);
    assert.equal(new Set(logins).size, 150);
    const said = result.stderr.match(/data "accounts" has no rows left/g) ?? [];
    assert.equal(said.length, 1, result.stderr);
    assert.equal(result.summary.totals.failures, 0, "running out is not a failure");
    assert.equal(result.summary.totals.requests, server.total());
  } finally {
    await server.shutdown();
  }
});
