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

Deno.test("user identity: 60 users on 3 workers are 0 … 59 once each, dense per kind, one account each", async () => {
  const hellos: { index: number; kindIndex: number; kind: string; id: number; account: string }[] =
    [];
  const server = startCountingServer(async (req, url) => {
    if (url.pathname === "/hello") hellos.push(await req.json());
    return new Response("ok");
  });
  try {
    const result = await runCliWithSummary(
      argv`${ROOT}tests/plans/user_identity.plan.ts --host ${server.url} --users 60 --spawn-rate 200 --workers 3 --run-time 2s --stop-timeout 5s`,
    );
    assert.equal(result.code, 0, result.stderr);
    const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
    const range = (n: number) => Array.from({ length: n }, (_, i) => i);
    assert.deepEqual(sorted(hellos.map((h) => h.index)), range(60));
    assert.ok(hellos.every((h) => h.id === h.index));
    for (const [kind, n] of [["shopper", 45], ["admin", 15]] as const) {
      const ofKind = hellos.filter((h) => h.kind === kind);
      assert.deepEqual(sorted(ofKind.map((h) => h.kindIndex)), range(n), kind);
    }
    assert.equal(new Set(hellos.map((h) => h.account)).size, 60, "at(index): an account each");
    assert.equal(result.summary.totals.requests, server.total());
  } finally {
    await server.shutdown();
  }
});
