// The engine conformance suite, run once per engine (as Hono's router suite runs every router):
// every case must give the same status, headers, body, stats and failure text on each engine as
// on fetch. This file: a Deno.serve target. Also: `engine_conformance_raw_test.ts` (protocol
// cases on a raw socket server), `engine_conformance_nginx_test.ts`, `engine_conformance_tls_test.ts`.
import assert from "node:assert/strict";
import {
  clientOf,
  conformingOutcome,
  ENGINES,
  type Outcome,
  outcomeOf,
} from "./conformance/suite.ts";
import { freePort, startTarget, TEN_MB } from "./conformance/servers.ts";
import type { HttpClient, HttpResponse } from "./types.ts";

const simpleCases: {
  what: string;
  run: (http: HttpClient) => Promise<HttpResponse>;
  expect: Partial<Pick<Outcome, "status" | "error" | "body">>;
}[] = [
  { what: "a small body", run: (h) => h.get("/hello"), expect: { status: 200, body: "hello" } },
  {
    what: "a chunked body",
    run: (h) => h.get("/chunked"),
    expect: { status: 200, body: "one two three" },
  },
  {
    what: "a redirect chain",
    run: (h) => h.get("/redirect/3"),
    expect: { status: 200, body: "arrived" },
  },
  {
    what: "too many redirects",
    run: (h) => h.get("/loop"),
    expect: { status: 0, error: "TooManyRedirects: more than 20 redirects" },
  },
  {
    what: "a 303 after a POST turns into a GET",
    run: (h) => h.post("/see-other", { body: "payload" }),
    expect: { status: 200, body: "GET " },
  },
  {
    what: "a 307 keeps the method and the body",
    run: (h) => h.put("/temporary", { body: "kept" }),
    expect: { status: 200, body: "PUT kept" },
  },
  {
    what: "a POST body",
    run: (h) => h.post("/method", { json: { a: 1 } }),
    expect: { status: 200, body: 'POST {"a":1}' },
  },
  { what: "HEAD", run: (h) => h.head("/head"), expect: { status: 200, body: "" } },
  { what: "204", run: (h) => h.get("/204"), expect: { status: 204, body: "" } },
  { what: "304", run: (h) => h.get("/304"), expect: { status: 304, body: "" } },
  {
    what: "a gzip body, decoded when read",
    run: (h) => h.get("/gzip"),
    expect: { status: 200, body: "squeezed ".repeat(100) },
  },
  {
    what: "an HTTP error status",
    run: (h) => h.get("/status/503"),
    expect: { status: 503, error: "HTTP 503", body: "status" },
  },
  {
    what: "a 10 MB body",
    run: (h) => h.get("/big"),
    expect: { status: 200 },
  },
  {
    what: "a 3 MB chunked body in odd-sized chunks",
    run: (h) => h.get("/big-chunked"),
    expect: { status: 200 },
  },
  {
    what: "a response head larger than the read buffer",
    run: (h) => h.get("/big-head"),
    expect: { status: 200, body: "small body" },
  },
  {
    what: "a 10 MB body counted, not kept",
    run: (h) => h.get("/big", { discardBody: true }),
    expect: { status: 200 },
  },
];

for (const engine of ENGINES) {
  Deno.test(`${engine}: conformance on a Deno.serve target`, async (t) => {
    const target = startTarget();
    try {
      for (const c of simpleCases) {
        await t.step(c.what, async () => {
          const outcome = await conformingOutcome(
            engine,
            target.url,
            async (client) => outcomeOf(client, await c.run(client.http)),
          );
          for (const [key, value] of Object.entries(c.expect)) {
            assert.equal(outcome[key as keyof Outcome], value, key);
          }
        });
      }

      await t.step("the 10 MB body is counted in full, kept or not", async () => {
        const client = clientOf(engine, target.url);
        try {
          const kept = await client.http.get("/big");
          assert.equal((await kept.bytes()).length, TEN_MB);
          const dropped = await client.http.get("/big", { discardBody: true });
          await assert.rejects(dropped.text(), /discardBody/);
          const cells = client.stats.takeDelta().endpoints[0].cells;
          assert.deepEqual(cells.map((c) => c.bytes), [2 * TEN_MB], engine);
        } finally {
          client.close();
        }
      });

      await t.step("a slow body: the latency runs to its last byte", async () => {
        const outcome = await conformingOutcome(engine, target.url, async (client) => {
          const res = await client.http.get("/slow");
          // The server waits 80 ms before each of its 4 parts: a floor, not a speed claim.
          assert.ok(res.durationMs >= 300, `durationMs ${res.durationMs}`);
          return outcomeOf(client, res);
        });
        assert.equal(outcome.body, "part1 part2 part3 part4 ");
      });

      await t.step("a server that never answers times out and the socket is dropped", async () => {
        const outcome = await conformingOutcome(
          engine,
          target.url,
          async (client) => {
            const res = await client.http.get("/never");
            const after = await client.http.get("/hello");
            assert.equal(after.status, 200, "the next request works on a new connection");
            client.stats.takeDelta();
            return { ...(await outcomeOf(client, res)), recorded: null };
          },
          { timeoutMs: 300 },
        );
        assert.equal(outcome.error, "Timeout: no response within 300 ms");
        assert.equal(outcome.status, 0);
      });

      await t.step("cookies are kept per user, sent back, readable and clearable", async () => {
        await conformingOutcome(engine, target.url, async (client) => {
          const login = await client.http.get("/login");
          assert.equal(await login.text(), "cookie=sid=abc123", "sent on the redirect's next hop");
          assert.deepEqual(client.http.cookies.get(), { sid: "abc123" });
          const again = await client.http.get("/whoami");
          assert.equal(await again.text(), "cookie=sid=abc123");
          client.http.cookies.clear();
          const cleared = await client.http.get("/whoami");
          assert.equal(await cleared.text(), "cookie=");
          client.http.cookies.set("theme=dark; Path=/");
          const set = await client.http.get("/whoami");
          return outcomeOf(client, set);
        });
        // Another user has its own jar.
        const other = clientOf(engine, target.url);
        try {
          await other.http.get("/login");
          const fresh = clientOf(engine, target.url);
          assert.equal(await (await fresh.http.get("/whoami")).text(), "cookie=");
          fresh.close();
        } finally {
          other.close();
        }
      });

      await t.step("parallel requests of one user each get a connection", async () => {
        await conformingOutcome(engine, target.url, async (client) => {
          const all = await Promise.all(
            Array.from({ length: 4 }, (_, i) => client.http.get("/method", { name: `p${i % 2}` })),
          );
          assert.deepEqual(all.map((r) => r.status), [200, 200, 200, 200]);
          const again = await client.http.get("/hello");
          assert.equal(again.status, 200);
          client.stats.takeDelta();
          return outcomeOf(client, await client.http.get("/hello"));
        });
      });

      await t.step("a refused connection", async () => {
        const outcome = await conformingOutcome(
          engine,
          `http://127.0.0.1:${freePort()}`,
          async (client) => outcomeOf(client, await client.http.get("/")),
        );
        assert.equal(outcome.error, "ConnectionRefused: connection refused");
      });
    } finally {
      await target.shutdown();
    }
  });
}
