// Checks end to end: what the target served decides, request by request, what Stampede counts.
import assert from "node:assert/strict";
import { decodeHistogram } from "../core/stats/histogram.ts";
import {
  argv,
  assertValidJunit,
  ROOT,
  runCliWithSummary,
  startCountingServer,
  tempDir,
} from "./helpers.ts";

const PLAN = `${ROOT}tests/plans/checks.plan.ts`;

/** A target that answers badly every so often and counts what it served. */
function checkTarget() {
  const served = { emptyCarts: 0, fullCarts: 0, ok: 0, unavailable: 0, three: 0, two: 0 };
  let n = 0;
  const server = startCountingServer((_req, url) => {
    const bad = ++n % 4 === 0;
    switch (url.pathname) {
      case "/cart":
        if (bad) served.emptyCarts++;
        else served.fullCarts++;
        return Response.json({ items: bad ? [] : ["socks"] });
      case "/status":
        if (bad) served.unavailable++;
        else served.ok++;
        return new Response("ok", { status: bad ? 503 : 200 });
      default:
        if (bad) served.two++;
        else served.three++;
        return Response.json(bad ? [1, 2] : [1, 2, 3]);
    }
  });
  return { server, served };
}

Deno.test("checks: a failing check makes a 200 a failure on its own row, latency kept; named checks are counted exactly", async () => {
  const { server, served } = checkTarget();
  const dir = await tempDir();
  try {
    const junit = `${dir.path}/junit.xml`;
    const json = `${dir.path}/records.jsonl`;
    const result = await runCliWithSummary([
      ...argv`${PLAN} --host ${server.url} --users 4 --workers 2 --run-time 2s --stop-timeout 5s`,
      ...argv`--exit-code-on-error 0 --junit ${junit} --recorder console,json --json-file ${json}`,
      "--threshold",
      "checks{check:status is 200}: rate>0.5",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const { summary } = result;
    const cart = summary.endpoints.find((e) => e.name === "/cart")!;
    assert.equal(cart.requests, served.emptyCarts + served.fullCarts);
    assert.equal(cart.failures, served.emptyCarts);
    assert.ok(served.emptyCarts > 0);
    assert.deepEqual(
      summary.failures.filter((f) => f.name === "/cart"),
      [{ method: "GET", name: "/cart", error: "no items in body", occurrences: served.emptyCarts }],
    );
    // Every /cart request has its latency, the failed ones included.
    assert.equal(decodeHistogram(cart.hdr_histogram_us!).totalCount, cart.requests);

    const status = summary.endpoints.find((e) => e.name === "/status")!;
    assert.equal(status.failures, served.unavailable, "a 503 is a failure of its own");
    const byName = Object.fromEntries(summary.checks.map((c) => [c.name, c]));
    assert.deepEqual(Object.keys(byName).sort(), ["status is 200", "three products listed"]);
    assert.deepEqual(byName["status is 200"], {
      name: "status is 200",
      passes: served.ok,
      fails: served.unavailable,
    });
    assert.deepEqual(byName["three products listed"], {
      name: "three products listed",
      passes: served.three,
      fails: served.two,
    });
    assert.equal(summary.totals.requests, server.total());

    assert.match(result.stdout, /\nChecks\n\s+Check\s+Passes\s+Fails\s+Passed\n/);
    assert.match(result.stdout, /✗\s+status is 200\s+\d+\s+\d+\s+\d+\.\d\d%/);
    assert.match(
      result.stdout,
      /ok\s+checks\{check:status is 200\}\s+rate>0\.5\s+observed 0\.\d+/,
    );

    const xml = await Deno.readTextFile(junit);
    assert.match(xml, /<testsuite name="checks" tests="2" failures="2"/);
    assert.match(
      xml,
      new RegExp(
        `check &quot;status is 200&quot; failed ${served.unavailable} of ${
          served.ok + served.unavailable
        } times`,
      ),
    );
    await assertValidJunit(junit);
    const final = (await Deno.readTextFile(json)).trim().split("\n").map((l) => JSON.parse(l))
      .find((r) => r.stats_type === "final");
    assert.deepEqual(final.checks, summary.checks);
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});

Deno.test("checks: a threshold on the checks' pass rate fails the run, exit 99", async () => {
  const { server } = checkTarget();
  try {
    const result = await runCliWithSummary([
      ...argv`${PLAN} --host ${server.url} --users 2 --workers 1 --run-time 1s --exit-code-on-error 0`,
      "--threshold",
      "checks: rate>0.99",
    ]);
    assert.equal(result.code, 99, result.stderr);
    const [t] = result.summary.thresholds;
    assert.equal(t.metric, "checks");
    assert.equal(t.ok, false);
    const all = result.summary.checks.reduce(
      (sum, c) => ({ passes: sum.passes + c.passes, runs: sum.runs + c.passes + c.fails }),
      { passes: 0, runs: 0 },
    );
    assert.ok(Math.abs(t.value! - all.passes / all.runs) < 1e-6, `${t.value}`);
  } finally {
    await server.shutdown();
  }
});
