// Every request that completed is counted exactly once, whatever the workers, the HTTP engine and
// however the run stops.
import assert from "node:assert/strict";
import {
  argv,
  type CountingServer,
  ROOT,
  runCliWithSummary,
  startCountingServer,
} from "./helpers.ts";
import type { Summary } from "../core/stats/summary.ts";

const PLAN = `${ROOT}tests/plans/counting.plan.ts`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A target that answers after `minMs` plus up to `spreadMs`, so requests are in flight at the stop. */
function delayedServer(minMs: number, spreadMs: number): CountingServer {
  return startCountingServer(async () => {
    await sleep(minMs + Math.random() * spreadMs);
    return new Response("hello");
  });
}

function served(server: CountingServer) {
  let items = 0;
  for (const [key, n] of server.counts) if (key.startsWith("GET /item/")) items += n;
  return { a: server.counts.get("GET /a") ?? 0, b: server.counts.get("POST /b") ?? 0, items };
}

function reported(summary: Summary) {
  const count = (method: string, name: string) =>
    summary.endpoints.find((e) => e.method === method && e.name === name)?.requests ?? 0;
  return { a: count("GET", "/a"), b: count("POST", "/b"), items: count("GET", "/item/:id") };
}

for (const engine of ["h1", "fetch"]) {
  for (const workers of [1, 2, 4]) {
    Deno.test(`${engine}: with ${workers} worker(s) the summary's counts equal the server's`, async () => {
      const server = delayedServer(0, 20);
      try {
        const { code, stderr, summary } = await runCliWithSummary(
          argv`${PLAN} --host ${server.url} --workers ${workers} --run-time 2s --stop-timeout 2s --http-engine ${engine}`,
        );
        assert.equal(code, 0, stderr);
        assert.ok(summary.totals.requests > 50, `only ${summary.totals.requests} requests`);
        assert.deepEqual(reported(summary), served(server));
        assert.equal(summary.totals.requests, server.total());
        assert.equal(summary.totals.failures, 0);
        assert.equal(summary.totals.aborted, 0);
        assert.equal(summary.users, 8);
        assert.equal(summary.stop_reason, "completed");
        assert.ok(
          summary.duration_s >= 2 && summary.duration_s < 6,
          `duration ${summary.duration_s}`,
        );
      } finally {
        await server.shutdown();
      }
    });
  }

  Deno.test(`${engine}: stopped by SIGINT with a stop timeout, every in-flight request is counted once`, async () => {
    const server = delayedServer(50, 150);
    try {
      const { code, stdout, stderr, summary } = await runCliWithSummary(
        argv`${PLAN} --host ${server.url} --workers 2 --users 20 --run-time 30s --stop-timeout 5s --http-engine ${engine}`,
        { signal: "SIGINT", signalAfterMs: 3000 },
      );
      assert.equal(code, 130, stderr);
      assert.equal(summary.stop_reason, "interrupted");
      assert.ok(summary.duration_s < 10, `the stop took too long: ${summary.duration_s}s`);
      assert.ok(summary.totals.requests > 20);
      assert.deepEqual(reported(summary), served(server));
      assert.equal(summary.totals.aborted, 0);
      assert.match(stdout, /Aggregated/, "the final table is printed after Ctrl-C");
    } finally {
      await server.shutdown();
    }
  });

  Deno.test(`${engine}: with stop timeout 0, cut-off requests are aborted: neither lost nor counted twice`, async () => {
    const server = delayedServer(100, 100);
    try {
      const { code, stderr, summary } = await runCliWithSummary(
        argv`${PLAN} --host ${server.url} --workers 2 --users 16 --run-time 1500ms --http-engine ${engine}`,
      );
      assert.equal(code, 0, stderr);
      // Each user had a request in flight at the stop: it is aborted, not a failure, no latency.
      assert.ok(summary.totals.aborted > 0, "some requests were cut off");
      assert.equal(summary.totals.failures, 0);
      assert.ok(summary.totals.max_ms < 1000);
      // Every request the server saw either completed (counted) or was cut off (aborted).
      const seen = server.total();
      const { requests, aborted } = summary.totals;
      assert.ok(seen >= requests, `server ${seen} < counted ${requests}`);
      assert.ok(
        seen <= requests + aborted,
        `server ${seen} > counted ${requests} + aborted ${aborted}`,
      );
    } finally {
      await server.shutdown();
    }
  });
}

Deno.test("a second SIGINT cuts running tasks off at once; the final stats are still written", async () => {
  const server = delayedServer(3000, 0);
  try {
    const started = performance.now();
    const { code, stderr, summary } = await runCliWithSummary(
      argv`${PLAN} --host ${server.url} --workers 2 --users 4 --run-time 60s --stop-timeout 30s`,
      {
        onStart: (child) => {
          setTimeout(() => child.kill("SIGINT"), 1500);
          setTimeout(() => child.kill("SIGINT"), 2500);
        },
      },
    );
    const tookS = (performance.now() - started) / 1000;
    assert.equal(code, 130, stderr);
    assert.match(stderr, /SIGINT again: cutting running tasks off/);
    assert.ok(tookS < 15, `the second Ctrl-C did not cut the 30 s stop timeout short (${tookS} s)`);
    assert.equal(summary.stop_reason, "interrupted");
    // Every user was waiting on a 3 s response: cut off, counted as aborted, never as a failure.
    assert.equal(summary.totals.aborted, 4);
    assert.equal(summary.totals.failures, 0);
    const seen = server.total();
    const { requests, aborted } = summary.totals;
    assert.ok(
      seen >= requests && seen <= requests + aborted,
      `server ${seen}, ${requests} + ${aborted}`,
    );
  } finally {
    await server.shutdown();
  }
});
