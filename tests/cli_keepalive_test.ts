// Servers that close idle keep-alive connections without `Connection: close` (Node, Go and proxy
// idle timeouts do), racing the next request: h1 sends an idempotent request once more on a fresh
// connection and counts the retry, never sends a POST twice, and what the server answered and
// dropped reconciles exactly with the summary.
import assert from "node:assert/strict";
import { argv, ROOT, runCliWithSummary, tempDir } from "./helpers.ts";
import { startClosingServer } from "./closing_server.ts";
import { readRecords } from "./json_records.ts";

const PLAN = `${ROOT}tests/plans/keepalive.plan.ts`;

Deno.test("h1 against a server closing reused connections: GETs retried once and counted, POSTs never sent twice, exact against the server", async () => {
  // Connections answer 2 or 3 requests, then drop the next: a GET or a POST, in turn.
  const server = startClosingServer((i) => 2 + (i % 2));
  const dir = await tempDir();
  try {
    const records = `${dir.path}/records.jsonl`;
    const result = await runCliWithSummary(
      argv`${PLAN} --host ${server.url} --users 10 --iterations 1000 --workers 1 --http-engine h1 --exit-code-on-error 0 --recorder console,json --json-file ${records}`,
    );
    assert.equal(result.code, 0, result.stderr);
    const { summary } = result;
    const row = (method: string) => summary.endpoints.find((e) => e.method === method)!;
    const answered = (method: string) => server.answered.get(method) ?? 0;
    const dropped = (method: string) => server.dropped.get(method) ?? 0;
    assert.ok(dropped("GET") > 100 && dropped("POST") > 100, JSON.stringify([...server.dropped]));
    // Every GET the server dropped was sent again and answered: no failure, one retry each.
    assert.equal(row("GET").requests, 1000);
    assert.equal(row("GET").failures, 0);
    assert.equal(answered("GET"), 1000);
    assert.equal(row("GET").retries, dropped("GET"));
    assert.equal(summary.totals.retries, dropped("GET"));
    // A POST the server dropped is a failure, never sent again.
    assert.equal(row("POST").requests, 1000);
    assert.equal(answered("POST") + dropped("POST"), 1000);
    assert.equal(row("POST").failures, dropped("POST"));
    assert.equal(row("POST").retries, 0);
    const posts = server.bodies.filter((b) => b !== "");
    assert.equal(posts.length, 1000);
    assert.equal(new Set(posts).size, 1000, "a POST body arrived twice");
    assert.deepEqual(summary.failures.map((f) => [f.method, f.error]), [
      ["POST", "ConnectionClosed: connection closed before the response completed"],
    ]);
    assert.match(result.stdout, /\d+ requests were sent again on a fresh connection/);
    const final = (await readRecords(records)).find((r) => r.stats_type === "final")!;
    assert.equal(final.retries, dropped("GET"));
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});

Deno.test("fetch with a POST: the run says once that Deno's fetch may send it again", async () => {
  const server = startClosingServer(() => 1_000_000);
  try {
    const result = await runCliWithSummary(
      argv`${PLAN} --host ${server.url} --users 2 --iterations 20 --workers 1 --http-engine fetch`,
    );
    assert.equal(result.code, 0, result.stderr);
    const said = result.stderr.split("\n").filter((l) => l.includes("Deno's fetch may send"));
    assert.equal(said.length, 1, result.stderr);
  } finally {
    await server.shutdown();
  }
});

// h1: each user has connections of its own; fetch: the users of a worker share Deno's pool (a
// pool per user costs ~100 KB a user, docs/http-engines.md#connections), kept alive either way.
for (const engine of ["h1", "fetch"]) {
  Deno.test(`${engine}: connections are kept alive${engine === "h1" ? ", one per user" : ""}`, async () => {
    const server = startClosingServer(() => 1_000_000);
    try {
      const result = await runCliWithSummary(
        argv`${PLAN} --host ${server.url} --users 10 --spawn-rate 10 --iterations 100 --workers 2 --http-engine ${engine}`,
        { env: { KEEPALIVE_WAIT_S: "0.1" } },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.summary.totals.requests, 200);
      if (engine === "h1") {
        // One user's requests are one after another: one connection each, kept alive.
        assert.equal(server.connections(), 10);
      } else {
        // At least one per worker, at most one per user: 200 requests on at most 10 connections.
        assert.ok(
          server.connections() >= 2 && server.connections() <= 10,
          `${server.connections()}`,
        );
      }
    } finally {
      await server.shutdown();
    }
  });
}
