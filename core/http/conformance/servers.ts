// The servers the engine conformance suite runs against, all on 127.0.0.1: a Deno.serve target,
// a raw socket server for what Deno.serve will not do (malformed, reset, 1xx, silent close),
// nginx, and a self-signed certificate made by openssl at test time.
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";

export const encoder = new TextEncoder();
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const TEN_MB = 10 * 1024 * 1024;
export const big = new Uint8Array(TEN_MB).map((_, i) => (i * 31) & 0xff);

/** A port on 127.0.0.1 that was free a moment ago (nothing listens there now). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A temporary directory and its removal. */
export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await Deno.makeTempDir({ prefix: "stampede-test-" });
  return { path, remove: () => Deno.remove(path, { recursive: true }) };
}

export async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---- A Deno.serve target -------------------------------------------------------------------

/** A body streamed in `parts`, each after `delayMs`. */
function slowly(parts: string[], delayMs: number): ReadableStream<Uint8Array> {
  return new ReadableStream({
    async pull(controller) {
      const part = parts.shift();
      if (part === undefined) return controller.close();
      await sleep(delayMs);
      controller.enqueue(encoder.encode(part));
    },
  });
}

const redirect = (status: number, location: string, headers: Record<string, string> = {}) =>
  new Response(null, { status, headers: { location, ...headers } });

/** The Deno.serve target's fixed paths; `/redirect/N` and `/status/N` are read from the path. */
const TARGET_ROUTES: Record<string, (req: Request) => Response | Promise<Response>> = {
  "/hello": () => new Response("hello", { headers: { "x-case": "hello" } }),
  "/chunked": () => new Response(slowly(["one ", "two ", "three"], 5)),
  "/loop": () => redirect(302, "/loop"),
  "/see-other": () => redirect(303, "/method"),
  "/temporary": () => redirect(307, "/method"),
  "/method": async (req) => new Response(`${req.method} ${await req.text()}`),
  "/login": () => redirect(302, "/whoami", { "set-cookie": "sid=abc123; Path=/; HttpOnly" }),
  "/whoami": (req) => new Response(`cookie=${req.headers.get("cookie") ?? ""}`),
  "/head": () => new Response("body of a HEAD", { headers: { "x-case": "head" } }),
  "/204": () => new Response(null, { status: 204 }),
  "/304": () => new Response(null, { status: 304, headers: { etag: '"v1"' } }),
  "/big": () => new Response(big),
  "/big-chunked": () => {
    let at = 0;
    return new Response(
      new ReadableStream({
        pull(controller) {
          if (at >= 3 * 1024 * 1024) return controller.close();
          controller.enqueue(big.slice(at, at += 100_003));
        },
      }),
    );
  },
  "/big-head": () => new Response("small body", { headers: { "x-big": "h".repeat(6000) } }),
  // 4 parts, 80 ms apart.
  "/slow": () => new Response(slowly(["part1 ", "part2 ", "part3 ", "part4 "], 80)),
  "/gzip": () =>
    new Response(new Uint8Array(gzipSync(encoder.encode("squeezed ".repeat(100)))), {
      headers: { "content-encoding": "gzip", "content-type": "text/plain" },
    }),
};

/** The Deno.serve target: one path per case (see {@link TARGET_ROUTES}); `/never` never answers. */
export function startTarget() {
  let release: () => void = () => {};
  const never = new Promise<void>((resolve) => release = resolve);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    const route = TARGET_ROUTES[path];
    if (route) return await route(req);
    if (path.startsWith("/redirect/")) {
      const n = Number(path.slice("/redirect/".length));
      return n > 0 ? redirect(302, `/redirect/${n - 1}`) : new Response("arrived");
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

// ---- A raw socket server: protocol cases ---------------------------------------------------

/** What the raw server does with each request on a connection; `n` counts from 1. */
export type RawBehaviour = (
  n: number,
  conn: Deno.Conn,
  request: string,
) => Promise<"keep" | "close">;

export function startRawServer(behaviour: RawBehaviour) {
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

export const write = (conn: Deno.Conn, text: string) => conn.write(encoder.encode(text));
export const ok = (body: string, extra = "") =>
  `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n${extra}\r\n${body}`;

// ---- nginx and TLS --------------------------------------------------------------------------

/** Where `binary` is installed, or null. */
export async function which(binary: string): Promise<string | null> {
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

/** A self-signed certificate for 127.0.0.1, made by openssl. */
export async function selfSignedCert(dir: string): Promise<{ cert: string; key: string }> {
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

/**
 * nginx with static files (an index page, a 10 MB file, a directory), gzip, a redirect, a
 * cookie, its echo and a 418, keeping a connection for 3 requests at most.
 */
export async function startNginx(): Promise<{ url: string; stop(): Promise<void> }> {
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
  const stop = async () => {
    child.kill("SIGTERM");
    await child.output();
    await dir.remove();
  };
  let up = false;
  for (let i = 0; i < 100 && !up; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      up = true;
    } catch {
      await sleep(50);
    }
  }
  if (!up) await stop();
  assert.ok(up, "nginx did not start listening");
  return { url: `http://127.0.0.1:${port}`, stop };
}
