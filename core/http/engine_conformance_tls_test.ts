// The engine conformance suite (see engine_conformance_test.ts) over TLS: a self-signed
// certificate is refused by default and accepted when checks are skipped; https to a plain
// server and a server that never speaks fail with the same texts on every engine.
import assert from "node:assert/strict";
import { clientOf, conformingOutcome, ENGINES, outcomeOf } from "./conformance/suite.ts";
import { selfSignedCert, startTarget, tempDir } from "./conformance/servers.ts";

/** A request through the fetch engine in a child deno that skips certificate checks. */
async function fetchSkippingChecks(url: string) {
  // Deno's fetch skips the checks only when deno runs with this flag (--insecure refuses the
  // fetch engine and says so).
  const script = `
    import { createHttpClientFactory } from "${new URL("./client.ts", import.meta.url).href}";
    import { RequestStats } from "${new URL("../stats/request_stats.ts", import.meta.url).href}";
    const http = createHttpClientFactory(new RequestStats(), {
      host: "${url}", timeoutMs: 5000, headers: {}, engine: "fetch", insecure: false,
    })(new AbortController().signal);
    const res = await http.get("/");
    console.log(JSON.stringify({ status: res.status, error: res.error, body: await res.text() }));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--unsafely-ignore-certificate-errors=127.0.0.1", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  return JSON.parse(text);
}

for (const engine of ENGINES) {
  Deno.test(`${engine}: conformance over TLS with a self-signed certificate: refused by default, accepted when checks are skipped`, async () => {
    const dir = await tempDir();
    const { cert, key } = await selfSignedCert(dir.path);
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, cert, key, onListen: () => {} },
      () => new Response("secret"),
    );
    const url = `https://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
    try {
      const refused = await conformingOutcome(
        engine,
        url,
        async (client) => outcomeOf(client, await client.http.get("/")),
      );
      assert.equal(refused.error, "TlsError: invalid peer certificate");

      // https to a server that speaks plain HTTP.
      const plain = startTarget();
      try {
        const garbled = await conformingOutcome(
          engine,
          plain.url.replace("http:", "https:"),
          async (client) => outcomeOf(client, await client.http.get("/hello")),
        );
        assert.equal(garbled.error, "TlsError: TLS handshake failed");
      } finally {
        await plain.shutdown();
      }

      // A listener that accepts and never speaks: the handshake times out, the socket is closed.
      const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const held: Deno.Conn[] = [];
      (async () => {
        for await (const conn of silent) held.push(conn);
      })().catch(() => {});
      try {
        const hung = await conformingOutcome(
          engine,
          `https://127.0.0.1:${(silent.addr as Deno.NetAddr).port}`,
          async (client) => outcomeOf(client, await client.http.get("/")),
          { timeoutMs: 300 },
        );
        assert.equal(hung.error, "Timeout: no response within 300 ms");
      } finally {
        silent.close();
        for (const conn of held) conn.close();
      }

      if (engine === "h1") {
        const h1 = clientOf("h1", url, { insecure: true });
        try {
          const res = await h1.http.get("/");
          assert.equal(res.error, null);
          assert.equal(await res.text(), "secret");
          assert.equal((await h1.http.get("/")).status, 200, "kept alive over TLS");
        } finally {
          h1.close();
        }
      } else {
        assert.deepEqual(await fetchSkippingChecks(url), {
          status: 200,
          error: null,
          body: "secret",
        });
      }
    } finally {
      await server.shutdown();
      await dir.remove();
    }
  });
}
