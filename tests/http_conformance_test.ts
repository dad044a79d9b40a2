// One suite, both HTTP engines: every case must give the same status, headers, body, stats and
// failure text with h1 as with fetch, against real servers on 127.0.0.1: Deno.serve, a raw
// socket server for what Deno.serve will not do (malformed, reset, 1xx, silent close), nginx
// and TLS servers (HTTP/1.1, and HTTP/2 only) with a certificate made by openssl at test time.
import assert from "node:assert/strict";
import { createSecureServer } from "node:http2";
import { gzipSync } from "node:zlib";
import {
  createHttpClientFactory,
  type HttpClient,
  type HttpResponse,
} from "../core/http/client.ts";
import type { HttpEngineName } from "../core/http/engine.ts";
import { definePlan } from "../core/plan/plan.ts";
import { RequestStats } from "../core/stats/request_stats.ts";
import { freePort, ROOT, runCli, runCliWithSummary, tempDir } from "./helpers.ts";

const ENGINES: HttpEngineName[] = ["h1", "fetch"];
const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TEN_MB = 10 * 1024 * 1024;
const big = new Uint8Array(TEN_MB).map((_, i) => (i * 31) & 0xff);

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A client on one engine, with the stats it records into. */
interface EngineClient {
  http: HttpClient;
  stats: RequestStats;
  close(): void;
}

function clientOf(
  engine: HttpEngineName,
  host: string,
  options: { timeoutMs?: number; insecure?: boolean } = {},
): EngineClient {
  const stats = new RequestStats();
  const abort = new AbortController();
  const http = createHttpClientFactory(stats, {
    host,
    timeoutMs: options.timeoutMs ?? 5_000,
    headers: {},
    engine,
    insecure: options.insecure,
  })(abort.signal);
  return {
    http,
    stats,
    close: () => {
      http.close();
      abort.abort();
    },
  };
}

/** What a case compares between engines: the response and what the stats recorded. */
interface Outcome {
  status: number;
  error: string | null;
  headers: [string, string][];
  body: string;
  url: string;
  recorded: unknown;
}

/** Headers that differ by time or by the connection, not by the engine. */
const VOLATILE = new Set(["date", "keep-alive", "connection", "last-modified", "etag"]);

async function outcomeOf(client: EngineClient, res: HttpResponse): Promise<Outcome> {
  const headers = [...res.headers].filter(([name]) => !VOLATILE.has(name));
  let body: string;
  try {
    const bytes = await res.bytes();
    body = bytes.length > 4096
      ? `${bytes.length} bytes, sha256 ${await sha256(bytes)}`
      : new TextDecoder().decode(bytes);
  } catch (error) {
    body = `unreadable: ${(error as Error).message.replace(/ of \S+:/, ":")}`;
  }
  // h1 counts a compressed body's bytes as they came, fetch as it decoded them.
  const encoded = res.headers.has("content-encoding");
  const recorded = client.stats.takeDelta().endpoints.map((e) => ({
    method: e.method,
    name: e.name,
    cells: e.cells.map((c) => ({
      status: c.status,
      failed: c.failed,
      requests: c.requests,
      bytes: encoded ? "encoded" : c.bytes,
    })),
    errors: e.errors,
    aborted: e.aborted,
  }));
  return { status: res.status, error: res.error, headers, body, url: res.url, recorded };
}

/** Runs `exchange` on both engines; asserts both outcomes are equal and returns them. */
async function onBothEngines(
  host: string,
  exchange: (client: EngineClient, engine: HttpEngineName) => Promise<Outcome>,
  options: { timeoutMs?: number; insecure?: boolean } = {},
): Promise<Outcome> {
  const outcomes: Outcome[] = [];
  for (const engine of ENGINES) {
    const client = clientOf(engine, host, options);
    try {
      outcomes.push(await exchange(client, engine));
    } finally {
      client.close();
    }
  }
  assert.deepEqual(outcomes[0], outcomes[1], "h1 (actual) and fetch (expected) differ");
  return outcomes[0];
}

// ---- A Deno.serve target -------------------------------------------------------------------

function startTarget() {
  let release: () => void = () => {};
  const never = new Promise<void>((resolve) => release = resolve);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const path = url.pathname;
    if (path === "/hello") return new Response("hello", { headers: { "x-case": "hello" } });
    if (path === "/chunked") {
      const parts = ["one ", "two ", "three"];
      return new Response(
        new ReadableStream({
          async pull(controller) {
            const part = parts.shift();
            if (part === undefined) return controller.close();
            await sleep(5);
            controller.enqueue(encoder.encode(part));
          },
        }),
      );
    }
    if (path.startsWith("/redirect/")) {
      const n = Number(path.slice("/redirect/".length));
      return n > 0
        ? new Response(null, { status: 302, headers: { location: `/redirect/${n - 1}` } })
        : new Response("arrived");
    }
    if (path === "/loop") {
      return new Response(null, { status: 302, headers: { location: "/loop" } });
    }
    if (path === "/see-other") {
      return new Response(null, { status: 303, headers: { location: "/method" } });
    }
    if (path === "/temporary") {
      return new Response(null, { status: 307, headers: { location: "/method" } });
    }
    if (path === "/method") return new Response(`${req.method} ${await req.text()}`);
    if (path === "/login") {
      return new Response(null, {
        status: 302,
        headers: { location: "/whoami", "set-cookie": "sid=abc123; Path=/; HttpOnly" },
      });
    }
    if (path === "/whoami") return new Response(`cookie=${req.headers.get("cookie") ?? ""}`);
    if (path === "/head") return new Response("body of a HEAD", { headers: { "x-case": "head" } });
    if (path === "/204") return new Response(null, { status: 204 });
    if (path === "/304") return new Response(null, { status: 304, headers: { etag: '"v1"' } });
    if (path === "/big") return new Response(big);
    if (path === "/big-chunked") {
      let at = 0;
      return new Response(
        new ReadableStream({
          pull(controller) {
            if (at >= 3 * 1024 * 1024) return controller.close();
            controller.enqueue(big.slice(at, at += 100_003));
          },
        }),
      );
    }
    if (path === "/big-head") {
      return new Response("small body", { headers: { "x-big": "h".repeat(6000) } });
    }
    if (path === "/slow") {
      let n = 0;
      return new Response(
        new ReadableStream({
          async pull(controller) {
            if (n++ === 4) return controller.close();
            await sleep(80);
            controller.enqueue(encoder.encode(`part${n} `));
          },
        }),
      );
    }
    if (path === "/gzip") {
      return new Response(new Uint8Array(gzipSync(encoder.encode("squeezed ".repeat(100)))), {
        headers: { "content-encoding": "gzip", "content-type": "text/plain" },
      });
    }
    if (path.startsWith("/status/")) {
      return new Response("status", { status: Number(path.slice("/status/".length)) });
    }
    if (path === "/never") {
      await never;
      return new Response("too late");
    }
    return new Response("not found", { status: 404 });
  });
  const port = (server.addr as Deno.NetAddr).port;
  return {
    url: `http://127.0.0.1:${port}`,
    shutdown: async () => {
      release();
      await server.shutdown();
    },
  };
}

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

/** One GET on both engines against a raw server that answers `raw`, then keeps or closes. */
async function outcomeOfCanned(raw: string, then: "keep" | "close") {
  const server = startRawServer(async (_n, conn) => {
    await write(conn, raw);
    return then;
  });
  try {
    return await onBothEngines(
      server.url,
      async (client) => outcomeOf(client, await client.http.get("/")),
    );
  } finally {
    server.close();
  }
}

Deno.test("conformance: Deno.serve target, h1 and fetch give the same results", async (t) => {
  const target = startTarget();
  try {
    for (const c of simpleCases) {
      await t.step(c.what, async () => {
        const outcome = await onBothEngines(
          target.url,
          async (client) => outcomeOf(client, await c.run(client.http)),
        );
        for (const [key, value] of Object.entries(c.expect)) {
          assert.equal(outcome[key as keyof Outcome], value, key);
        }
      });
    }

    await t.step("the 10 MB body is counted in full either way", async () => {
      for (const engine of ENGINES) {
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
      }
    });

    await t.step("a slow body: the latency runs to its last byte", async () => {
      const outcome = await onBothEngines(target.url, async (client) => {
        const res = await client.http.get("/slow");
        // The server waits 80 ms before each of its 4 parts: a floor, not a speed claim.
        assert.ok(res.durationMs >= 300, `durationMs ${res.durationMs}`);
        return outcomeOf(client, res);
      });
      assert.equal(outcome.body, "part1 part2 part3 part4 ");
    });

    await t.step("a server that never answers times out and the socket is dropped", async () => {
      const outcome = await onBothEngines(
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
      await onBothEngines(target.url, async (client) => {
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
      const other = clientOf("h1", target.url);
      try {
        await other.http.get("/login");
        const fresh = clientOf("h1", target.url);
        assert.equal(await (await fresh.http.get("/whoami")).text(), "cookie=");
        fresh.close();
      } finally {
        other.close();
      }
    });

    await t.step("parallel requests of one user each get a connection", async () => {
      await onBothEngines(target.url, async (client) => {
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
      const outcome = await onBothEngines(
        `http://127.0.0.1:${freePort()}`,
        async (client) => outcomeOf(client, await client.http.get("/")),
      );
      assert.equal(outcome.error, "ConnectionRefused: connection refused");
    });
  } finally {
    await target.shutdown();
  }
});

// ---- A raw socket server: protocol cases ---------------------------------------------------

/** What the raw server does with each request on a connection; `n` counts from 1. */
type RawBehaviour = (n: number, conn: Deno.Conn, request: string) => Promise<"keep" | "close">;

function startRawServer(behaviour: RawBehaviour) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  let accepted = 0;
  let requests = 0;
  (async () => {
    for await (const conn of listener) {
      accepted++;
      conns.add(conn);
      (async () => {
        const buf = new Uint8Array(64 * 1024);
        let pending = "";
        let n = 0;
        try {
          while (true) {
            const read = await conn.read(buf);
            if (read === null) break;
            pending += new TextDecoder().decode(buf.subarray(0, read));
            let end;
            while ((end = pending.indexOf("\r\n\r\n")) >= 0) {
              const request = pending.slice(0, end + 4);
              pending = pending.slice(end + 4);
              requests++;
              if (await behaviour(++n, conn, request) === "close") throw new Error("close");
            }
          }
        } catch { /* closed */ }
        conns.delete(conn);
        try {
          conn.close();
        } catch { /* already */ }
      })();
    }
  })().catch(() => {});
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    url: `http://127.0.0.1:${port}`,
    accepted: () => accepted,
    requests: () => requests,
    reset: () => {
      accepted = 0;
      requests = 0;
    },
    close: () => {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already */ }
      }
    },
  };
}

const write = (conn: Deno.Conn, text: string) => conn.write(encoder.encode(text));
const ok = (body: string, extra = "") =>
  `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n${extra}\r\n${body}`;

Deno.test("conformance: protocol cases on a raw socket server, h1 and fetch alike", async (t) => {
  await t.step("keep-alive: ten requests reuse one connection", async () => {
    const server = startRawServer(async (_n, conn) => {
      await write(conn, ok("kept"));
      return "keep";
    });
    try {
      for (const engine of ENGINES) {
        server.reset();
        const client = clientOf(engine, server.url);
        for (let i = 0; i < 10; i++) assert.equal((await client.http.get("/")).status, 200);
        client.close();
        assert.equal(server.accepted(), 1, `${engine}: connections`);
        assert.equal(server.requests(), 10);
      }
    } finally {
      server.close();
    }
  });

  await t.step("a server closing after 3 requests (Connection: close)", async () => {
    const server = startRawServer(async (n, conn) => {
      if (n < 3) {
        await write(conn, ok(`r${n}`));
        return "keep";
      }
      await write(conn, ok(`r${n}`, "connection: close\r\n"));
      return "close";
    });
    try {
      for (const engine of ENGINES) {
        server.reset();
        const client = clientOf(engine, server.url);
        const bodies = [];
        for (let i = 0; i < 9; i++) {
          const res = await client.http.get("/");
          assert.equal(res.error, null, `${engine}: request ${i}`);
          bodies.push(await res.text());
        }
        client.close();
        assert.deepEqual(bodies, ["r1", "r2", "r3", "r1", "r2", "r3", "r1", "r2", "r3"]);
        assert.equal(server.accepted(), 3, `${engine}: connections`);
      }
    } finally {
      server.close();
    }
  });

  await t.step(
    "a server closing an idle keep-alive connection: the next request reconnects",
    async () => {
      const server = startRawServer(async (_n, conn) => {
        await write(conn, ok("once"));
        // Close quietly, without Connection: close, as an idle timeout does.
        setTimeout(() => {
          try {
            conn.close();
          } catch { /* the client closed first */ }
        }, 20);
        return "keep";
      });
      try {
        await onBothEngines(server.url, async (client) => {
          const first = await client.http.get("/");
          await sleep(200); // the server's close arrives while the connection is idle
          const second = await client.http.get("/");
          assert.equal(second.error, null);
          await outcomeOf(client, first);
          return outcomeOf(client, second);
        });
      } finally {
        server.close();
      }
    },
  );

  await t.step("100 Continue before the response", async () => {
    const server = startRawServer(async (_n, conn) => {
      await write(conn, "HTTP/1.1 100 Continue\r\n\r\n" + ok("after continue"));
      return "keep";
    });
    try {
      const outcome = await onBothEngines(
        server.url,
        async (client) => outcomeOf(client, await client.http.get("/")),
      );
      assert.equal(outcome.body, "after continue");
    } finally {
      server.close();
    }
  });

  await t.step("a chunked body with extensions and trailers", async () => {
    const outcome = await outcomeOfCanned(
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" +
        "5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nx-trailer: yes\r\n\r\n",
      "keep",
    );
    assert.equal(outcome.body, "hello world");
  });

  await t.step("a body without length runs to the close", async () => {
    const outcome = await outcomeOfCanned(
      "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end",
      "close",
    );
    assert.equal(outcome.body, "until the end");
  });

  await t.step("a malformed status line", async () => {
    const outcome = await outcomeOfCanned(
      "HTP/1.1 2x0 OK\r\ncontent-length: 0\r\n\r\n",
      "close",
    );
    assert.equal(outcome.error, "InvalidResponse: malformed HTTP response");
  });

  await t.step("conflicting content-length headers", async () => {
    const outcome = await outcomeOfCanned(
      "HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 5\r\n\r\nabcde",
      "close",
    );
    assert.equal(outcome.error, "InvalidResponse: malformed HTTP response");
  });

  await t.step("a connection closed mid-body", async () => {
    const outcome = await outcomeOfCanned(
      "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part",
      "close",
    );
    assert.equal(
      outcome.error,
      "ConnectionClosed: connection closed before the response completed",
    );
  });

  await t.step(
    "a reset mid-response is a failure, not retried; the socket is replaced",
    async () => {
      let served = 0;
      const server = startRawServer(async (_n, conn, request) => {
        if (request.startsWith("GET /fine")) {
          await write(conn, ok("fine"));
          return "keep";
        }
        served++;
        await write(conn, "HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\npartial");
        // The client's unread upload is still queued: closing now sends a TCP reset.
        return "close";
      });
      try {
        const outcome = await onBothEngines(server.url, async (client) => {
          const res = await client.http.post("/reset", { body: new Uint8Array(256 * 1024) });
          const after = await client.http.get("/fine");
          assert.equal(after.status, 200, "the next request gets a new connection");
          await outcomeOf(client, after);
          return outcomeOf(client, res);
        });
        assert.equal(served, 2, "one reset request per engine: never retried");
        assert.equal(outcome.status, 0);
        assert.match(outcome.error ?? "", /^Connection(Reset|Closed): /);
      } finally {
        server.close();
      }
    },
  );
});

// ---- nginx ---------------------------------------------------------------------------------

async function which(binary: string): Promise<string | null> {
  for (
    const dir of ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"]
  ) {
    try {
      await Deno.stat(`${dir}/${binary}`);
      return `${dir}/${binary}`;
    } catch { /* next */ }
  }
  return null;
}

Deno.test("conformance: nginx, h1 and fetch alike", async (t) => {
  const nginx = await which("nginx");
  assert.ok(
    nginx,
    "nginx is not installed: this test needs it (apt-get install nginx; .ci/apt-packages lists it)",
  );
  const dir = await tempDir();
  const port = freePort();
  await Deno.mkdir(`${dir.path}/www/dir`, { recursive: true });
  await Deno.writeTextFile(`${dir.path}/www/index.html`, "<h1>nginx</h1>\n".repeat(50));
  await Deno.writeFile(`${dir.path}/www/big.bin`, big);
  await Deno.writeTextFile(
    `${dir.path}/nginx.conf`,
    `daemon off;
worker_processes 1;
pid ${dir.path}/nginx.pid;
error_log ${dir.path}/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir.path}/tmp;
  proxy_temp_path ${dir.path}/tmp;
  fastcgi_temp_path ${dir.path}/tmp;
  uwsgi_temp_path ${dir.path}/tmp;
  scgi_temp_path ${dir.path}/tmp;
  keepalive_requests 3;
  gzip on;
  gzip_min_length 10;
  gzip_types text/plain text/html;
  server {
    listen 127.0.0.1:${port};
    root ${dir.path}/www;
    location = /redirect { return 302 /index.html; }
    location = /cookie { add_header set-cookie "n=1; Path=/"; return 200 "cookie"; }
    location = /echo-cookie { return 200 "cookie=$http_cookie"; }
    location = /teapot { return 418 "short and stout"; }
  }
}
`,
  );
  // nginx's workers run as another user: they must be able to read the files.
  await new Deno.Command("chmod", { args: ["-R", "a+rX", dir.path] }).output();
  const child = new Deno.Command(nginx, {
    args: ["-c", `${dir.path}/nginx.conf`, "-p", dir.path, "-e", `${dir.path}/error.log`],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    const url = `http://127.0.0.1:${port}`;
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        up = true;
      } catch {
        await sleep(50);
      }
    }
    assert.ok(up, "nginx did not start listening");
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
    for (const [what, run] of cases) {
      await t.step(what, async () => {
        await onBothEngines(url, async (client) => outcomeOf(client, await run(client.http)));
      });
    }
    await t.step("keepalive_requests 3: nine requests, no failure", async () => {
      await onBothEngines(url, async (client) => {
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
      await onBothEngines(url, async (client) => {
        await client.http.get("/cookie");
        const res = await client.http.get("/echo-cookie");
        assert.equal(await res.text(), "cookie=n=1");
        client.stats.takeDelta();
        return outcomeOf(client, res);
      });
    });
  } finally {
    child.kill("SIGTERM");
    await child.output();
    await dir.remove();
  }
});

// ---- TLS -----------------------------------------------------------------------------------

async function selfSignedCert(dir: string): Promise<{ cert: string; key: string }> {
  const openssl = await which("openssl");
  assert.ok(
    openssl,
    "openssl is not installed: this test makes its certificate with it (apt-get install openssl)",
  );
  const out = await new Deno.Command(openssl, {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      `${dir}/key.pem`,
      "-out",
      `${dir}/cert.pem`,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return {
    cert: await Deno.readTextFile(`${dir}/cert.pem`),
    key: await Deno.readTextFile(`${dir}/key.pem`),
  };
}

Deno.test("conformance: TLS with a self-signed certificate: refused by default, accepted with --insecure", async () => {
  const dir = await tempDir();
  const { cert, key } = await selfSignedCert(dir.path);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert, key, onListen: () => {} },
    () => new Response("secret"),
  );
  const url = `https://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  try {
    const refused = await onBothEngines(
      url,
      async (client) => outcomeOf(client, await client.http.get("/")),
    );
    assert.equal(refused.error, "TlsError: invalid peer certificate");

    // https to a server that speaks plain HTTP.
    const plain = startTarget();
    try {
      const garbled = await onBothEngines(
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
      const hung = await onBothEngines(
        `https://127.0.0.1:${(silent.addr as Deno.NetAddr).port}`,
        async (client) => outcomeOf(client, await client.http.get("/")),
        { timeoutMs: 300 },
      );
      assert.equal(hung.error, "Timeout: no response within 300 ms");
    } finally {
      silent.close();
      for (const conn of held) conn.close();
    }

    const h1 = clientOf("h1", url, { insecure: true });
    try {
      const res = await h1.http.get("/");
      assert.equal(res.error, null);
      assert.equal(await res.text(), "secret");
      assert.equal((await h1.http.get("/")).status, 200, "kept alive over TLS");
    } finally {
      h1.close();
    }

    // Deno's fetch skips the checks only when deno runs with this flag (--insecure refuses the
    // fetch engine and says so): the same request through it, in a child process.
    const script = `
      import { createHttpClientFactory } from "${
      new URL("../core/http/client.ts", import.meta.url).href
    }";
      import { RequestStats } from "${
      new URL("../core/stats/request_stats.ts", import.meta.url).href
    }";
      const http = createHttpClientFactory(new RequestStats(), {
        host: "${url}", timeoutMs: 5000, headers: {}, engine: "fetch",
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
    assert.deepEqual(JSON.parse(text), { status: 200, error: null, body: "secret" });
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});

// ---- Fallback and the command line ---------------------------------------------------------

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
    import { createHttpClientFactory } from "${
    new URL("../core/http/client.ts", import.meta.url).href
  }";
    import { RequestStats } from "${
    new URL("../core/stats/request_stats.ts", import.meta.url).href
  }";
    const warnings = [];
    const http = createHttpClientFactory(new RequestStats(), {
      host: "${target}", timeoutMs: 5000, headers: {}, engine: "h1",
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

Deno.test("the command line picks the engine; --insecure with fetch is refused with a reason", async () => {
  const target = startTarget();
  try {
    const plan = `${ROOT}tests/plans/counting.plan.ts`;
    for (const engine of ENGINES) {
      const { code, stderr, summary } = await runCliWithSummary(
        [plan, "--host", target.url, "--run-time", "1s", "--workers", "1"],
        { env: { STAMPEDE_HTTP_ENGINE: engine } },
      );
      assert.equal(code, 0, stderr);
      assert.ok(summary.totals.requests > 0);
    }
    const bad = await runCli([plan, "--host", target.url, "--http-engine", "h2"]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--http-engine.*h2.*invalid.*h1, fetch/);
    const insecure = await runCli([
      plan,
      "--host",
      target.url,
      "--run-time",
      "1s",
      "--http-engine",
      "fetch",
      "--insecure",
    ]);
    assert.equal(insecure.code, 2, insecure.stderr);
    const notInsecure = await runCli(
      [plan, "--host", target.url, "--run-time", "500ms", "--http-engine", "fetch"],
      { env: { STAMPEDE_INSECURE: "false" } },
    );
    assert.equal(notInsecure.code, 0, `STAMPEDE_INSECURE=false is false: ${notInsecure.stderr}`);
    assert.match(
      insecure.stderr,
      /^stampede: error: Cannot skip certificate checks with the HTTP engine "fetch": .*--unsafely-ignore-certificate-errors/,
    );
  } finally {
    await target.shutdown();
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
    import { createHttpClientFactory } from "${
    new URL("../core/http/client.ts", import.meta.url).href
  }";
    import { RequestStats } from "${
    new URL("../core/stats/request_stats.ts", import.meta.url).href
  }";
    const warnings = [];
    const http = createHttpClientFactory(new RequestStats(), {
      host: "${url}", timeoutMs: 5000, headers: {}, engine: "h1",
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

Deno.test("a plan's http.engine and http.insecure are checked when it is defined", () => {
  const users = { u: { tasks: { t: () => {} } } };
  assert.throws(
    () => definePlan({ users, http: { engine: "h3" as HttpEngineName } }),
    /Cannot use plan: http.engine "h3" is not one of h1, fetch/,
  );
  assert.throws(
    () => definePlan({ users, http: { insecure: "yes" as unknown as boolean } }),
    /Cannot use plan: http.insecure must be true or false/,
  );
  assert.ok(definePlan({ users, http: { engine: "fetch", insecure: false } }));
});
