import assert from "node:assert/strict";
import { RunStopped } from "../errors.ts";
import type { RequestSink } from "../stats/request_stats.ts";
import { createHttpClientFactory, type RequestClock } from "./client.ts";
import { ENGINES } from "./conformance/suite.ts";
import type { HttpEngineName } from "./engine.ts";

/** A sink that keeps every call. */
function recordingSink() {
  const records: unknown[][] = [];
  const aborts: string[][] = [];
  const checks: [string, boolean][] = [];
  const sink: RequestSink = {
    check: (name, passed) => void checks.push([name, passed]),
    record: (...args) => void records.push(args),
    abort: (method, name) => void aborts.push([method, name]),
    endpoint: (method, name) => ({
      record: (...args) => void records.push([method, name, ...args]),
      abort: () => void aborts.push([method, name]),
      retried: () => {},
    }),
  };
  return { sink, records, aborts, checks };
}

/** A server that echoes the request, and redirects `/moved` to `location` with `status`. */
function startEcho() {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const to = url.searchParams.get("to");
    if (url.pathname === "/moved" && to) {
      return new Response(null, {
        status: Number(url.searchParams.get("status")),
        headers: { location: to },
      });
    }
    if (url.pathname === "/missing") return new Response("no", { status: 404 });
    return Response.json({
      method: req.method,
      path: url.pathname + url.search,
      headers: Object.fromEntries(req.headers),
      body: await req.text(),
    });
  });
  return { url: `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`, server };
}

function clientOn(engine: HttpEngineName, host: string, sink: RequestSink) {
  const abort = new AbortController();
  const clock: RequestClock = { lastMs: 0, reads: 0 };
  const http = createHttpClientFactory(sink, {
    host,
    timeoutMs: 5_000,
    headers: { "X-Team": "perf" },
    engine,
    insecure: false,
    clock,
  })(abort.signal);
  return { http, abort, clock };
}

for (const engine of ENGINES) {
  Deno.test(`${engine}: a request is prepared (URL, query, headers, body) and recorded once`, async () => {
    const { url, server } = startEcho();
    const { sink, records } = recordingSink();
    const { http } = clientOn(engine, url, sink);
    try {
      const res = await http.post("/items?a=1", {
        query: { b: 2, c: true },
        headers: { "X-Trace": "t1" },
        json: { id: 7 },
        name: "/items",
      });
      const echo = await res.json<Record<string, unknown>>();
      assert.equal(echo.method, "POST");
      assert.equal(echo.path, "/items?a=1&b=2&c=true");
      assert.equal(echo.body, '{"id":7}');
      const headers = echo.headers as Record<string, string>;
      assert.equal(headers["x-team"], "perf", "the worker's default headers");
      assert.equal(headers["x-trace"], "t1");
      assert.equal(headers["content-type"], "application/json");
      assert.match(headers["user-agent"], /^stampede\//);
      assert.equal(res.url, `${url}/items?a=1&b=2&c=true`);
      assert.equal(records.length, 1);
      const [method, name, status, latencyUs, bytes, error] = records[0];
      assert.deepEqual([method, name, status, error], ["POST", "/items", 200, null]);
      assert.ok(Number.isInteger(latencyUs) && (latencyUs as number) >= 0);
      assert.equal(bytes, (await res.bytes()).length);
      assert.ok(res.durationMs >= 0 && res.durationMs < 5_000, `durationMs ${res.durationMs}`);
    } finally {
      http.close();
      await server.shutdown();
    }
  });

  Deno.test(`${engine}: each request notes the clock read that ends its timing`, async () => {
    const { url, server } = startEcho();
    const { http, clock } = clientOn(engine, url, recordingSink().sink);
    try {
      for (let i = 1; i <= 3; i++) {
        const beforeMs = performance.now();
        await http.get("/x");
        const afterMs = performance.now();
        assert.equal(clock.reads, i);
        assert.ok(clock.lastMs >= beforeMs && clock.lastMs <= afterMs, "read during this request");
      }
    } finally {
      http.close();
      await server.shutdown();
    }
  });

  Deno.test(`${engine}: an HTTP error status is a failure under the URL as written`, async () => {
    const { url, server } = startEcho();
    const { sink, records } = recordingSink();
    const { http } = clientOn(engine, url, sink);
    try {
      const res = await http.get("/missing");
      assert.equal(res.ok, false);
      assert.equal(res.error, "HTTP 404");
      assert.deepEqual(records.map((r) => [r[0], r[1], r[2], r[5]]), [
        ["GET", "/missing", 404, "HTTP 404"],
      ]);
    } finally {
      http.close();
      await server.shutdown();
    }
  });

  Deno.test(`${engine}: a redirect after a POST is followed as a GET, counted once as the POST`, async () => {
    const { url, server } = startEcho();
    const other = startEcho();
    const { sink, records } = recordingSink();
    const { http } = clientOn(engine, url, sink);
    try {
      const res = await http.post(`/moved?status=302&to=${other.url}/landed`, {
        body: "payload",
        headers: { authorization: "Bearer secret" },
        name: "moved",
      });
      const echo = await res.json<Record<string, unknown>>();
      assert.equal(echo.method, "GET");
      assert.equal(echo.body, "");
      const headers = echo.headers as Record<string, string>;
      assert.equal(headers.authorization, undefined, "not sent to another origin");
      assert.equal(headers["content-type"], undefined);
      assert.equal(res.url, `${other.url}/landed`);
      assert.deepEqual(records.map((r) => [r[0], r[1], r[2]]), [["POST", "moved", 200]]);
    } finally {
      http.close();
      await server.shutdown();
      await other.server.shutdown();
    }
  });

  Deno.test(`${engine}: once the user is stopped, a request is counted as aborted and ends the task`, async () => {
    const { url, server } = startEcho();
    const { sink, records, aborts } = recordingSink();
    const { http, abort } = clientOn(engine, url, sink);
    try {
      abort.abort();
      await assert.rejects(http.get("/late", { name: "late" }), RunStopped);
      assert.deepEqual(aborts, [["GET", "late"]]);
      assert.equal(records.length, 0);
    } finally {
      http.close();
      await server.shutdown();
    }
  });

  Deno.test(`${engine}: a failing check makes a 200 a failure on its own row, latency kept`, async () => {
    const { url, server } = startEcho();
    const { sink, records, checks } = recordingSink();
    const { http } = clientOn(engine, url, sink);
    try {
      const failed = await http.get("/cart", {
        check: async (res) =>
          (await res.json<{ body: string }>()).body !== "" || "no items in body",
      });
      assert.equal(failed.status, 200);
      assert.equal(failed.ok, false);
      assert.equal(failed.error, "no items in body");
      const passed = await http.post("/cart", { body: "x", check: (res) => res.status === 200 });
      assert.equal(passed.error, null);
      const threw = await http.get("/cart", {
        check: () => {
          throw new Error("boom");
        },
      });
      assert.equal(threw.error, "check threw: Error: boom");
      const named = await http.get("/missing", {
        check: {
          "status is 200": (res) => res.status === 200,
          "says no": async (res) => (await res.text()) === "no",
        },
      });
      assert.equal(named.error, "HTTP 404", "a request that failed keeps its own text");
      const namedOn200 = await http.get("/cart", {
        check: { "status is 200": (res) => res.status === 200, "is empty": () => false },
      });
      assert.equal(namedOn200.error, 'check "is empty" failed');
      assert.deepEqual(records.map((r) => [r[0], r[1], r[2], r[5]]), [
        ["GET", "/cart", 200, "no items in body"],
        ["POST", "/cart", 200, null],
        ["GET", "/cart", 200, "check threw: Error: boom"],
        ["GET", "/missing", 404, "HTTP 404"],
        ["GET", "/cart", 200, 'check "is empty" failed'],
      ]);
      // latency recorded as for any request: whole microseconds of the exchange
      assert.ok(records.every((r) => Number.isInteger(r[3]) && (r[3] as number) >= 0));
      assert.equal(records[0][3], Math.round(failed.durationMs * 1000));
      assert.deepEqual(checks, [
        ["status is 200", false],
        ["says no", true],
        ["status is 200", true],
        ["is empty", false],
      ]);
    } finally {
      http.close();
      await server.shutdown();
    }
  });

  Deno.test(`${engine}: a check runs on a request that got no response, which keeps its failure`, async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const { sink, records, checks } = recordingSink();
    const { http } = clientOn(engine, `http://127.0.0.1:${port}`, sink);
    try {
      const res = await http.get("/", { check: { "status is 200": (r) => r.status === 200 } });
      assert.equal(res.status, 0);
      assert.match(res.error ?? "", /refused/i);
      assert.equal(records.length, 1);
      assert.equal(records[0][5], res.error);
      assert.deepEqual(checks, [["status is 200", false]]);
    } finally {
      http.close();
    }
  });
}
