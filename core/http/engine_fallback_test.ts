// When h1 cannot serve an origin (a proxy set in the environment, a TLS server that speaks only
// HTTP/2), its requests go through fetch and the run is told once. Each case runs the client in a
// child deno: the proxy comes from its environment, the certificate checks are skipped by a flag.
import assert from "node:assert/strict";
import { createSecureServer } from "node:http2";
import { freePort, selfSignedCert, tempDir } from "./conformance/servers.ts";

Deno.test("h1 falls back to fetch when a proxy is set in the environment, and says so once", async () => {
  // A proxy that answers every request itself: fetch sends it the absolute URL.
  const seen: string[] = [];
  const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    seen.push(req.url);
    return new Response("via proxy");
  });
  const proxyUrl = `http://127.0.0.1:${(proxy.addr as Deno.NetAddr).port}`;
  const target = `http://127.0.0.1:${freePort()}`;
  const script = `
    import { createHttpClientFactory } from "${new URL("./client.ts", import.meta.url).href}";
    import { RequestStats } from "${new URL("../stats/request_stats.ts", import.meta.url).href}";
    const warnings = [];
    const http = createHttpClientFactory(new RequestStats(), {
      host: "${target}", timeoutMs: 5000, headers: {}, engine: "h1", insecure: false,
      onWarning: (message) => warnings.push(message),
    })(new AbortController().signal);
    const bodies = [];
    for (let i = 0; i < 3; i++) bodies.push(await (await http.get("/x")).text());
    http.close();
    console.log(JSON.stringify({ bodies, warnings }));
  `;
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      env: { HTTP_PROXY: proxyUrl, NO_PROXY: "" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const result = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
    assert.deepEqual(result.bodies, ["via proxy", "via proxy", "via proxy"]);
    assert.equal(result.warnings.length, 1, "said once");
    assert.match(result.warnings[0], /h1 engine cannot send to .*proxy.*through fetch/);
    assert.equal(seen.length, 3);
  } finally {
    await proxy.shutdown();
  }
});

Deno.test("h1 falls back to fetch for a TLS server that speaks only HTTP/2", async () => {
  const dir = await tempDir();
  const { cert, key } = await selfSignedCert(dir.path);
  const server = createSecureServer({ cert, key, allowHTTP1: false });
  server.on("stream", (stream) => {
    stream.respond({ ":status": 200 });
    stream.end("spoken in h2");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  // Deno's fetch speaks h2 but checks certificates in-process: a child with the flag that
  // skips the checks for both engines.
  const script = `
    import { createHttpClientFactory } from "${new URL("./client.ts", import.meta.url).href}";
    import { RequestStats } from "${new URL("../stats/request_stats.ts", import.meta.url).href}";
    const warnings = [];
    const http = createHttpClientFactory(new RequestStats(), {
      host: "${url}", timeoutMs: 5000, headers: {}, engine: "h1", insecure: false,
      onWarning: (message) => warnings.push(message),
    })(new AbortController().signal);
    const bodies = [];
    for (let i = 0; i < 2; i++) {
      const res = await http.get("/");
      bodies.push(res.error ?? await res.text());
    }
    http.close();
    console.log(JSON.stringify({ bodies, warnings }));
  `;
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--unsafely-ignore-certificate-errors=127.0.0.1", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const result = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
    assert.deepEqual(result.bodies, ["spoken in h2", "spoken in h2"]);
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0], /HTTP\/2 only/);
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await dir.remove();
  }
});
