// The engine conformance suite (see engine_conformance_test.ts) against nginx: static files with
// gzip on the wire, a 10 MB file, HEAD, redirects, error statuses, its cookies, and a server that
// closes every connection after 3 requests.
import assert from "node:assert/strict";
import { conformingOutcome, ENGINES, outcomeOf } from "./conformance/suite.ts";
import { startNginx } from "./conformance/servers.ts";
import type { HttpClient, HttpResponse } from "./types.ts";

const cases: [string, (h: HttpClient) => Promise<HttpResponse>][] = [
  ["a static file, gzip on the wire", (h) => h.get("/index.html")],
  [
    "a static file, asked without gzip",
    (h) => h.get("/index.html", { headers: { "accept-encoding": "identity" } }),
  ],
  ["a 10 MB file", (h) => h.get("/big.bin")],
  ["HEAD", (h) => h.head("/index.html")],
  ["a redirect", (h) => h.get("/redirect")],
  ["404", (h) => h.get("/missing")],
  ["418", (h) => h.get("/teapot")],
  ["a 301 to the directory", (h) => h.get("/dir")],
];

for (const engine of ENGINES) {
  Deno.test(`${engine}: conformance against nginx`, async (t) => {
    const nginx = await startNginx();
    const url = nginx.url;
    try {
      for (const [what, run] of cases) {
        await t.step(what, async () => {
          await conformingOutcome(
            engine,
            url,
            async (client) => outcomeOf(client, await run(client.http)),
          );
        });
      }
      await t.step("keepalive_requests 3: nine requests, no failure", async () => {
        await conformingOutcome(engine, url, async (client) => {
          for (let i = 0; i < 9; i++) {
            assert.equal((await client.http.get("/redirect")).error, null);
          }
          client.stats.takeDelta();
          return outcomeOf(
            client,
            await client.http.get("/index.html", {
              headers: { "accept-encoding": "identity" },
            }),
          );
        });
      });
      await t.step("cookies from nginx are sent back", async () => {
        await conformingOutcome(engine, url, async (client) => {
          await client.http.get("/cookie");
          const res = await client.http.get("/echo-cookie");
          assert.equal(await res.text(), "cookie=n=1");
          client.stats.takeDelta();
          return outcomeOf(client, res);
        });
      });
    } finally {
      await nginx.stop();
    }
  });
}
