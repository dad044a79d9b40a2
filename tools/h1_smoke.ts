// A quick, bounded throughput smoke test of the HTTP engines against a local nginx (not the
// benchmark: that is `deno task bench`). Each measurement runs a few seconds:
//
//   deno run -A tools/h1_smoke.ts [--seconds 3] [--connections 64] [--url http://127.0.0.1:8080/]
//   deno run -A tools/h1_smoke.ts --idle-users 10000 [--batch 500]   # memory of idle users
//
// Without --url it starts nginx (Debian's) on a free port, serving a 612-byte page. It prints
// requests/s of: a bare socket write/read loop (no HTTP parsing: the floor under any client), a
// bare loop on ctx.http's client with h1 and with fetch (64 users, one thread),
// wrk (if installed, one thread), and the whole CLI (`--workers 1 --recorder console`) per engine.
// With `taskset` the generators run on core 0 and nginx on core 1.
import { createHttpClientFactory } from "../core/http/client.ts";
import type { HttpEngineName } from "../core/http/engine.ts";
import { RequestStats } from "../core/stats/request_stats.ts";

const args = Deno.args;
const flag = (name: string, fallback: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
};
const seconds = Math.min(10, Number(flag("seconds", "3")));
const connections = Number(flag("connections", "64"));
let url = flag("url", "");
const root = new URL("../", import.meta.url).pathname;
// The whole run is bounded: 6 measurements of at most 10 s.

async function has(binary: string): Promise<boolean> {
  try {
    const out = await new Deno.Command("sh", { args: ["-c", `command -v ${binary}`] }).output();
    return out.code === 0;
  } catch {
    return false;
  }
}
const taskset = await has("taskset");
const pin = (core: number, command: string[]) =>
  taskset ? ["taskset", "-c", String(core), ...command] : command;

let nginx: Deno.ChildProcess | null = null;
let dir: string | null = null;
if (!url && !args.includes("--idle-child")) {
  if (!(await has("nginx"))) {
    console.error("nginx is not installed (apt-get install nginx), or pass --url");
    Deno.exit(2);
  }
  dir = await Deno.makeTempDir({ prefix: "h1-smoke-" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await Deno.mkdir(`${dir}/www`);
  await Deno.writeTextFile(`${dir}/www/index.html`, "x".repeat(612));
  await Deno.writeTextFile(
    `${dir}/nginx.conf`,
    `daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
worker_rlimit_nofile 20000;
events { worker_connections 16384; }
http { access_log off; keepalive_requests 1000000; client_body_temp_path ${dir}/tmp;
  server { listen 127.0.0.1:${port} backlog=16384; root ${dir}/www; } }
`,
  );
  await new Deno.Command("chmod", { args: ["-R", "a+rX", dir] }).output();
  const command = pin(1, ["nginx", "-c", `${dir}/nginx.conf`, "-p", dir, "-e", `${dir}/error.log`]);
  nginx = new Deno.Command(command[0], { args: command.slice(1), stderr: "null" }).spawn();
  url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 100; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** A bare loop of `connections` users on the client, in this thread, for `seconds`. */
async function clientLoop(engine: HttpEngineName): Promise<number> {
  const stats = new RequestStats();
  const abort = new AbortController();
  const factory = createHttpClientFactory(stats, {
    host: new URL(url).origin,
    timeoutMs: 10_000,
    headers: {},
    engine,
    insecure: false,
  });
  const path = new URL(url).pathname;
  let requests = 0;
  let failures = 0;
  const endAt = performance.now() + seconds * 1000;
  const users = Array.from({ length: connections }, async () => {
    const http = factory(abort.signal);
    while (performance.now() < endAt) {
      const res = await http.get(path);
      if (res.error) failures++;
      requests++;
    }
    http.close();
  });
  const start = performance.now();
  await Promise.all(users);
  const rate = requests / ((performance.now() - start) / 1000);
  if (failures) console.log(`  (${engine}: ${failures} failures)`);
  return rate;
}

/**
 * The floor under any HTTP client on Deno (bench/raw_socket.ts): sockets writing a GET and
 * reading to the blank line, no parsing, no timers, no workers.
 */
async function socketLoop(): Promise<number> {
  const command = pin(0, [
    Deno.execPath(),
    "run",
    "-A",
    `${root}bench/raw_socket.ts`,
    url,
    String(connections),
    String(seconds),
  ]);
  const out = await new Deno.Command(command[0], { args: command.slice(1) }).output();
  const result = JSON.parse(new TextDecoder().decode(out.stdout).trim());
  return result.requests / result.seconds;
}

async function wrk(): Promise<number | null> {
  if (!(await has("wrk"))) return null;
  const command = pin(0, ["wrk", "-t1", `-c${connections}`, `-d${seconds}s`, url]);
  const out = await new Deno.Command(command[0], { args: command.slice(1) }).output();
  const match = /Requests\/sec:\s+([\d.]+)/.exec(new TextDecoder().decode(out.stdout));
  return match ? Number(match[1]) : null;
}

/** Files to remove at the end. */
const temporary: string[] = [];

/** The flags of every built-in recorder, writing to temporary files and free local ports. */
async function allRecorders(): Promise<string[]> {
  const free = () => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    return port;
  };
  return [
    "--recorder",
    "console,json,prometheus,otel",
    "--json-file",
    temporary[temporary.push(await Deno.makeTempFile({ suffix: ".jsonl" })) - 1],
    "--prometheus-listen",
    `127.0.0.1:${free()}`,
    // Nothing listens there: exports fail and are reported, as a collector that is down.
    "--otel-endpoint",
    `http://127.0.0.1:${free()}`,
  ];
}

async function cli(engine: HttpEngineName, recorders: string[]): Promise<number | null> {
  const summary = await Deno.makeTempFile({ suffix: ".json" });
  const plan = await Deno.makeTempFile({ suffix: ".plan.ts" });
  await Deno.writeTextFile(
    plan,
    `import { constant, definePlan } from "${new URL("../mod.ts", import.meta.url).href}";
export default definePlan({ users: { u: { wait: constant(0), tasks: {
  get: async ({ http }) => void await http.get(${JSON.stringify(new URL(url).pathname)}) } } } });
`,
  );
  const command = pin(0, [
    Deno.execPath(),
    "run",
    "-A",
    `${root}cli.ts`,
    plan,
    "--host",
    new URL(url).origin,
    "--users",
    String(connections),
    "--workers",
    "1",
    "--run-time",
    `${seconds}s`,
    ...recorders,
    "--http-engine",
    engine,
    "--summary",
    summary,
  ]);
  const out = await new Deno.Command(command[0], {
    args: command.slice(1),
    stdout: "null",
    stderr: "null",
  }).output();
  try {
    if (out.code !== 0) return null;
    const s = JSON.parse(await Deno.readTextFile(summary));
    return s.totals.requests / s.duration_s;
  } finally {
    await Deno.remove(summary);
    await Deno.remove(plan);
  }
}

/**
 * In a child process of its own: `users` clients on `engine` each make one request, then hold
 * their keep-alive connection idle; prints the resident memory they added, per user, in bytes.
 */
async function idleChild(engine: HttpEngineName, users: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const stats = new RequestStats();
  const abort = new AbortController();
  const factory = createHttpClientFactory(stats, {
    host: new URL(url).origin,
    timeoutMs: 30_000,
    headers: {},
    engine,
    insecure: false,
  });
  // Warm up the code paths with a few users, so only per-user memory is measured.
  const warm = Array.from({ length: 50 }, () => factory(abort.signal));
  await Promise.all(warm.map((h) => h.get(new URL(url).pathname)));
  gc();
  await new Promise((r) => setTimeout(r, 200));
  gc();
  const before = Deno.memoryUsage();
  const clients = Array.from({ length: users }, () => factory(abort.signal));
  // Default: all at once, so fetch's shared pool also has to open one connection per user.
  const batch = Number(flag("batch", String(users)));
  let failures = 0;
  for (let i = 0; i < users; i += batch) {
    const responses = await Promise.all(
      clients.slice(i, i + batch).map((h) => h.get(new URL(url).pathname)),
    );
    failures += responses.filter((r) => r.error).length;
  }
  gc();
  await new Promise((r) => setTimeout(r, 500));
  gc();
  const after = Deno.memoryUsage();
  const sockets = [...Deno.readDirSync("/proc/self/fd")].filter((e) => {
    try {
      return Deno.readLinkSync(`/proc/self/fd/${e.name}`).startsWith("socket:");
    } catch {
      return false;
    }
  }).length;
  console.log(
    JSON.stringify({
      engine,
      users,
      failures,
      sockets,
      bytesPerUser: (after.rss - before.rss) / users,
      // Live JavaScript objects only; the rest of the RSS is native (sockets, buffers) and
      // V8's own growth.
      heapBytesPerUser: (after.heapUsed - before.heapUsed) / users,
    }),
  );
  for (const c of [...clients, ...warm]) c.close();
}

if (args.includes("--idle-child")) {
  await idleChild(flag("engine", "h1") as HttpEngineName, Number(flag("idle-users", "10000")));
  Deno.exit(0);
}

const fmt = (n: number | null) => n === null ? "n/a" : `${Math.round(n).toLocaleString("en")}/s`;
const idleUsers = Number(flag("idle-users", "0"));
try {
  if (idleUsers > 0) {
    for (const engine of ["h1", "fetch"] as const) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--v8-flags=--expose-gc",
          new URL(import.meta.url).pathname,
          "--idle-child",
          "--engine",
          engine,
          "--idle-users",
          String(idleUsers),
          "--batch",
          flag("batch", String(idleUsers)),
          "--url",
          url,
        ],
        stderr: "inherit",
      }).output();
      const result = JSON.parse(new TextDecoder().decode(out.stdout).trim());
      console.log(
        `idle ${engine}: ${result.users} users, ${result.failures} failures, ${result.sockets} sockets open, ${
          (result.bytesPerUser / 1024).toFixed(1)
        } KB per user (RSS), of which ${
          (result.heapBytesPerUser / 1024).toFixed(1)
        } KB live JS heap`,
      );
    }
  }
} finally {
  if (idleUsers > 0) {
    nginx?.kill("SIGTERM");
    await nginx?.output();
    if (dir) await Deno.remove(dir, { recursive: true });
  }
}
if (idleUsers > 0) Deno.exit(0);

console.log(
  `target ${url}, ${connections} connections, ${seconds} s each${taskset ? ", pinned" : ""}`,
);
try {
  console.log(`wrk -t1            ${fmt(await wrk())}`);
  console.log(`socket loop        ${fmt(await socketLoop())}`);
  console.log(`client loop h1     ${fmt(await clientLoop("h1"))}`);
  console.log(`client loop fetch  ${fmt(await clientLoop("fetch"))}`);
  console.log(`cli h1 (console)   ${fmt(await cli("h1", ["--recorder", "console"]))}`);
  console.log(`cli h1 (all rec.)  ${fmt(await cli("h1", await allRecorders()))}`);
  console.log(`cli fetch (console)${fmt(await cli("fetch", ["--recorder", "console"]))}`);
  console.log(`wrk -t1            ${fmt(await wrk())}`);
} finally {
  for (const file of temporary) await Deno.remove(file).catch(() => {});
  nginx?.kill("SIGTERM");
  await nginx?.output();
  if (dir) await Deno.remove(dir, { recursive: true });
}
