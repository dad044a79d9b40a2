// A task that throws, a 500, a refused connection and a timeout are failures with their own text.
import assert from "node:assert/strict";
import { argv, freePort, ROOT, runCliWithSummary, startCountingServer } from "./helpers.ts";

Deno.test("each kind of failure is counted with its own error text and the user keeps running", async () => {
  const server = startCountingServer((req, url) => {
    if (url.pathname === "/500") return new Response("oops", { status: 500 });
    if (url.pathname === "/hang") {
      // Never answers; lets go when the client gives up.
      return new Promise((resolve) =>
        req.signal.addEventListener("abort", () => resolve(new Response("late")))
      );
    }
    return new Response("ok");
  });
  try {
    const { code, stdout, stderr, summary } = await runCliWithSummary(
      argv`${ROOT}tests/plans/failures.plan.ts --host ${server.url} --workers 2 --run-time 3s --stop-timeout 1s`,
      { env: { REFUSED_URL: `http://127.0.0.1:${freePort()}/x` } },
    );
    // Failed requests and no thresholds: exit 1 (Locust's rule).
    assert.equal(code, 1, stderr);
    const failure = (method: string, name: string) =>
      summary.failures.find((f) => f.method === method && f.name === name);
    const expected: [string, string, RegExp][] = [
      ["TASK", "boom", /^Error: boom$/],
      ["GET", "/500", /^HTTP 500$/],
      ["GET", "refused", /^ConnectionRefused/],
      ["GET", "/hang", /^Timeout: no response within 200 ms$/],
    ];
    for (const [method, name, error] of expected) {
      const f = failure(method, name);
      assert.ok(f, `no failure for ${method} ${name}: ${JSON.stringify(summary.failures)}`);
      assert.match(f.error, error);
      // the user went on after the failure: the same failure happened again
      assert.ok(f.occurrences >= 2, `${method} ${name} happened ${f.occurrences} time(s)`);
      const endpoint = summary.endpoints.find((e) => e.method === method && e.name === name)!;
      assert.equal(endpoint.failures, f.occurrences);
    }
    const ok = summary.endpoints.find((e) => e.name === "/ok")!;
    assert.equal(ok.failures, 0);
    assert.equal(ok.requests, server.counts.get("GET /ok"));
    // a timed-out request has a latency near its timeout
    const hang = summary.endpoints.find((e) => e.name === "/hang")!;
    assert.ok(hang.min_ms >= 190 && hang.max_ms < 1000, `hang ${hang.min_ms}..${hang.max_ms} ms`);
    // the failures table is printed
    assert.match(stdout, /Failures/);
    assert.match(stdout, /HTTP 500/);
  } finally {
    await server.shutdown();
  }
});
