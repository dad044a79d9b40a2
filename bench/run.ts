// `deno task bench`: Stampede against the raw Deno fetch loop and its peers, on one machine.
// The target (nginx) and this harness are pinned to core 0, every load generator to core 1.
// Rounds are interleaved (A B C … A B C …) and medians reported. See BENCHMARKS.md.
//
//   deno task bench [--rounds 3] [--seconds 10] [--connections 64] [--only raw,wrk,...]
//                   [--skip-memory] [--skip-startup] [--skip-arrival] [--arrival-rate 20000]
//                   [--write]
import { parseArgs } from "node:util";
import { builtinRegistry } from "../recorders/builtin.ts";
import { argv, freePort } from "../tests/helpers.ts";
import { arrival } from "./arrival.ts";
import { startNginx } from "./nginx.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "64" },
    only: { type: "string" },
    "skip-memory": { type: "boolean", default: false },
    "skip-startup": { type: "boolean", default: false },
    "skip-arrival": { type: "boolean", default: false },
    "arrival-rate": { type: "string", default: "20000" },
    "memory-users": { type: "string", default: "1000,10000" },
    write: { type: "boolean", default: false },
  },
});
const ROUNDS = Number(flags.rounds);
const SECONDS = Number(flags.seconds);
const CONNECTIONS = Number(flags.connections);
const ROOT = new URL("../", import.meta.url).pathname;
const BENCH = `${ROOT}bench/`;
const DENO = Deno.execPath();
const TARGET_CORE = "0";
const LOAD_CORE = "1";

interface Measurement {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuS: number;
  rssMb: number;
}

interface Tool {
  id: string;
  label: string;
  /** Why it cannot run here, or null. */
  missing(): string | null;
  run(url: string, tmp: string): Promise<Measurement>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const decoder = new TextDecoder();

function which(command: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${command}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Runs `args` pinned to the load core under GNU time; returns its stdout and CPU/RSS. */
async function timed(
  args: string[],
  tmp: string,
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string; cpuS: number; rssMb: number }> {
  const timeFile = `${tmp}/time.txt`;
  const out = await new Deno.Command("taskset", {
    args: ["-c", LOAD_CORE, "/usr/bin/time", "-f", "%U %S %M", "-o", timeFile, ...args],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = decoder.decode(out.stdout);
  const stderr = decoder.decode(out.stderr);
  if (!out.success) {
    throw new Error(`${args.join(" ")} failed (${out.code}): ${stderr.slice(-500)}`);
  }
  const [user, system, maxRssKb] = (await Deno.readTextFile(timeFile)).trim().split("\n").pop()!
    .split(" ").map(Number);
  return { stdout, stderr, cpuS: user + system, rssMb: maxRssKb / 1024 };
}

function stampede(id: string, label: string, extra: (tmp: string) => string[]): Tool {
  return {
    id,
    label,
    missing: () => null,
    async run(url, tmp) {
      const summaryPath = `${tmp}/summary.json`;
      const r = await timed([
        ...argv`${DENO} run -A ${ROOT}cli.ts ${BENCH}plans/flat.plan.ts --host ${url} --users ${CONNECTIONS} --spawn-rate 100000 --run-time ${SECONDS}s --summary ${summaryPath}`,
        ...extra(tmp),
      ], tmp);
      const summary = JSON.parse(await Deno.readTextFile(summaryPath));
      if (summary.totals.failures > 0) {
        throw new Error(`${id}: ${summary.totals.failures} failures`);
      }
      return {
        rps: summary.totals.requests / summary.duration_s,
        p50Ms: summary.totals.percentiles_ms["50"],
        p99Ms: summary.totals.percentiles_ms["99"],
        cpuS: r.cpuS,
        rssMb: r.rssMb,
      };
    },
  };
}

let otlpPort = 0;

/** The flags that turn on every telemetry recorder this build has. */
function allRecorders(tmp: string): string[] {
  const ids = builtinRegistry().ids;
  const recorders = ["console", ...["json", "otel", "prometheus"].filter((id) => ids.includes(id))];
  const args = ["--recorder", recorders.join(",")];
  if (ids.includes("json")) args.push("--json-file", `${tmp}/records.ndjson`);
  if (ids.includes("otel")) args.push("--otel-endpoint", `http://127.0.0.1:${otlpPort}`);
  if (ids.includes("prometheus")) {
    args.push("--prometheus-listen", `127.0.0.1:${freePort()}`, "--prometheus-linger", "0s");
  }
  return args;
}

/** The flags that trace every request, sampling `ratio` of them, with spans to the local sink. */
function traceFlags(ratio: number): string[] {
  return [
    "--traces",
    "--trace-sample-ratio",
    String(ratio),
    "--trace-endpoint",
    `http://127.0.0.1:${otlpPort}`,
  ];
}

const autocannonBin = `${BENCH}.tools/node_modules/autocannon/autocannon.js`;

/** One of the raw loops in bench/: a script printing bench/raw_result.ts's JSON line. */
function rawLoop(id: string, label: string, script: string): Tool {
  return {
    id,
    label,
    missing: () => null,
    async run(url, tmp) {
      const r = await timed(
        [DENO, "run", "-A", `${BENCH}${script}`, url, String(CONNECTIONS), String(SECONDS)],
        tmp,
      );
      const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
      return {
        rps: out.requests / out.seconds,
        p50Ms: out.p50_ms,
        p99Ms: out.p99_ms,
        cpuS: r.cpuS,
        rssMb: r.rssMb,
      };
    },
  };
}

const TOOLS: Tool[] = [
  rawLoop("raw", "raw Deno fetch loop", "raw_fetch.ts"),
  rawLoop("raw-socket", "raw Deno socket loop (no HTTP parsing)", "raw_socket.ts"),
  stampede("stampede", "Stampede h1, 1 worker, console", () => ["--workers", "1"]),
  stampede(
    "stampede-all",
    "Stampede h1, 1 worker, all recorders",
    (tmp) => ["--workers", "1", ...allRecorders(tmp)],
  ),
  ...[0.01, 1].map((ratio) =>
    stampede(
      `stampede-traces-${ratio}`,
      `Stampede h1, 1 worker, console, --traces at ratio ${ratio}`,
      () => ["--workers", "1", ...traceFlags(ratio)],
    )
  ),
  stampede("stampede-w2", "Stampede h1, 2 workers, console", () => ["--workers", "2"]),
  stampede(
    "stampede-fetch",
    "Stampede fetch, 1 worker, console",
    () => ["--workers", "1", "--http-engine", "fetch"],
  ),
  stampede(
    "stampede-fetch-all",
    "Stampede fetch, 1 worker, all recorders",
    (tmp) => ["--workers", "1", "--http-engine", "fetch", ...allRecorders(tmp)],
  ),
  {
    id: "wrk",
    label: "wrk (1 thread)",
    missing: () => which("wrk") ? null : "wrk not installed (bench/setup.sh)",
    async run(url, tmp) {
      const r = await timed(
        ["wrk", "-t1", `-c${CONNECTIONS}`, `-d${SECONDS}s`, "--latency", url],
        tmp,
      );
      const rps = Number(r.stdout.match(/Requests\/sec:\s+([\d.]+)/)![1]);
      const latency = (p: string) => {
        const m = r.stdout.match(new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`))!;
        return Number(m[1]) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[m[2]];
      };
      return { rps, p50Ms: latency("50"), p99Ms: latency("99"), cpuS: r.cpuS, rssMb: r.rssMb };
    },
  },
  {
    id: "autocannon",
    label: "autocannon (Node)",
    missing: () => {
      try {
        Deno.statSync(autocannonBin);
        return null;
      } catch {
        return "autocannon not installed (bench/setup.sh)";
      }
    },
    async run(url, tmp) {
      const r = await timed(
        ["node", autocannonBin, "-c", String(CONNECTIONS), "-d", String(SECONDS), "-j", url],
        tmp,
      );
      const out = JSON.parse(r.stdout);
      return {
        rps: out.requests.total / out.duration,
        p50Ms: out.latency.p50,
        p99Ms: out.latency.p99,
        cpuS: r.cpuS,
        rssMb: r.rssMb,
      };
    },
  },
  ...(["FastHttpUser", "HttpUser"] as const).map((cls): Tool => ({
    id: cls === "FastHttpUser" ? "locust-fast" : "locust",
    label: `Locust ${cls}`,
    missing: () => which("locust") ? null : "locust not installed (bench/setup.sh)",
    async run(url, tmp) {
      const r = await timed(
        argv`/usr/bin/python3 /usr/bin/locust -f ${BENCH}locustfile.py --headless -u ${CONNECTIONS} -r ${CONNECTIONS} -t ${SECONDS}s --host ${url} --csv ${tmp}/locust --only-summary --loglevel ERROR`,
        tmp,
        { LOCUST_CLASS: cls },
      );
      const lines = (await Deno.readTextFile(`${tmp}/locust_stats.csv`)).trim().split("\n");
      const header = lines[0].split(",").map((h) => h.replace(/"/g, ""));
      const row = lines.find((l) => l.includes("Aggregated"))!.split(",").map((c) =>
        c.replace(/"/g, "")
      );
      const col = (name: string) => Number(row[header.indexOf(name)]);
      return {
        rps: col("Request Count") / SECONDS,
        p50Ms: col("50%"),
        p99Ms: col("99%"),
        cpuS: r.cpuS,
        rssMb: r.rssMb,
      };
    },
  })),
];

/** nginx on the target core: a 13-byte body, keep-alive, no access log. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const fmt = (n: number, digits = 0) => Number.isFinite(n) ? n.toFixed(digits) : "–";

async function throughput(url: string, tmp: string) {
  const only = flags.only?.split(",");
  const tools = TOOLS.filter((t) => !only || only.includes(t.id));
  const results = new Map<string, Measurement[]>();
  const skipped: string[] = [];
  for (const tool of tools) {
    const why = tool.missing();
    if (why) skipped.push(`${tool.label}: ${why}`);
    else results.set(tool.id, []);
  }
  for (let round = 1; round <= ROUNDS; round++) {
    for (const tool of tools) {
      if (!results.has(tool.id)) continue;
      const dir = await Deno.makeTempDir({ dir: tmp });
      try {
        const m = await tool.run(url, dir);
        results.get(tool.id)!.push(m);
        console.error(
          `round ${round} ${tool.id}: ${fmt(m.rps)} req/s, p50 ${fmt(m.p50Ms, 2)} ms, p99 ${
            fmt(m.p99Ms, 2)
          } ms, cpu ${fmt(m.cpuS, 1)} s, rss ${fmt(m.rssMb)} MB`,
        );
      } catch (error) {
        console.error(`round ${round} ${tool.id}: FAILED ${(error as Error).message}`);
      }
      await sleep(500);
    }
  }
  const medians = new Map<string, Measurement>();
  for (const [id, ms] of results) {
    if (ms.length === 0) continue;
    medians.set(id, {
      rps: median(ms.map((m) => m.rps)),
      p50Ms: median(ms.map((m) => m.p50Ms)),
      p99Ms: median(ms.map((m) => m.p99Ms)),
      cpuS: median(ms.map((m) => m.cpuS)),
      rssMb: median(ms.map((m) => m.rssMb)),
    });
  }
  const raw = medians.get("raw")?.rps ?? NaN;
  const wrk = medians.get("wrk")?.rps ?? NaN;
  const rows = [
    "| tool | req/s | p50 ms | p99 ms | CPU s | peak RSS MB | × raw Deno | × wrk |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const tool of tools) {
    const m = medians.get(tool.id);
    if (!m) continue;
    rows.push(
      `| ${tool.label} | ${fmt(m.rps)} | ${fmt(m.p50Ms, 2)} | ${fmt(m.p99Ms, 2)} | ${
        fmt(m.cpuS, 1)
      } | ${fmt(m.rssMb)} | ${fmt(m.rps / raw, 2)} | ${fmt(m.rps / wrk, 2)} |`,
    );
  }
  const rps = (id: string) => medians.get(id)?.rps ?? NaN;
  const checks = [
    `Stampede fetch (1 worker, all recorders) / raw Deno fetch loop: ${
      fmt(rps("stampede-fetch-all") / raw, 3)
    } (target >= 0.95)`,
    `cost of the recorders, fetch engine (console only vs all on): ${
      fmt(100 * (1 - rps("stampede-fetch-all") / rps("stampede-fetch")), 1)
    } % (target <= 3 %)`,
    `cost of the recorders, h1 engine (console only vs all on): ${
      fmt(100 * (1 - rps("stampede-all") / rps("stampede")), 1)
    } % (target <= 3 %)`,
    `cost of traces, h1 engine (off vs --traces at ratio 0.01, at ratio 1): ${
      fmt(100 * (1 - rps("stampede-traces-0.01") / rps("stampede")), 1)
    } %, ${fmt(100 * (1 - rps("stampede-traces-1") / rps("stampede")), 1)} %`,
    `raw Deno socket loop / wrk: ${fmt(rps("raw-socket") / wrk, 3)} (the runtime's floor)`,
    `Stampede h1 (1 worker, console) / raw Deno socket loop: ${
      fmt(rps("stampede") / rps("raw-socket"), 3)
    }`,
    `Stampede h1 (1 worker, console) / wrk: ${fmt(rps("stampede") / wrk, 3)} (target >= 0.9)`,
    `Stampede h1 (1 worker, all recorders) / wrk: ${
      fmt(rps("stampede-all") / wrk, 3)
    } (target >= 0.85)`,
  ];
  return { table: rows.join("\n"), checks, skipped, medians: Object.fromEntries(medians) };
}

function rssKb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(status.match(/VmRSS:\s+(\d+) kB/)![1]);
}

/** RSS of a generator holding `users` idle users (5–10 s think time) after the ramp-up. */
type MemoryKind = "raw" | "stampede-h1" | "stampede-fetch";

async function idleRss(kind: MemoryKind, url: string, users: number, tmp: string) {
  const rampS = Math.max(2, users / 2000);
  const args = kind === "raw"
    ? [DENO, "run", "-A", `${BENCH}raw_fetch.ts`, url, String(users), String(rampS + 8), "5", "10"]
    : argv`${DENO} run -A ${ROOT}cli.ts ${BENCH}plans/idle.plan.ts --host ${url} --users ${users} --spawn-rate ${
      users / rampS
    } --workers 1 --run-time ${rampS + 8}s --recorder console --http-engine ${
      kind === "stampede-h1" ? "h1" : "fetch"
    } --summary ${tmp}/idle.json`;
  const child = new Deno.Command("taskset", {
    args: ["-c", LOAD_CORE, ...args],
    stdout: "null",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  await sleep((rampS + 5) * 1000);
  const kb = rssKb(child.pid);
  child.kill("SIGINT");
  await child.status;
  return kb;
}

async function memory(url: string, tmp: string) {
  const counts = flags["memory-users"].split(",").map(Number);
  const rows = [
    "| generator | " + counts.map((n) => `RSS at ${n} users (MB)`).join(" | ") +
    ` | per added user (KB) |`,
    "|---|" + counts.map(() => "---:|").join("") + "---:|",
  ];
  const perUser: Record<string, number> = {};
  const labels: Record<MemoryKind, string> = {
    raw: "raw Deno fetch loop",
    "stampede-h1": "Stampede h1 engine, 1 worker",
    "stampede-fetch": "Stampede fetch engine, 1 worker",
  };
  for (const kind of ["raw", "stampede-h1", "stampede-fetch"] as const) {
    const kbs: number[] = [];
    for (const n of counts) {
      kbs.push(await idleRss(kind, url, n, tmp));
      console.error(`memory ${kind} ${n} users: ${fmt(kbs.at(-1)! / 1024)} MB`);
    }
    const marginal = (kbs.at(-1)! - kbs[0]) / (counts.at(-1)! - counts[0]);
    perUser[kind] = marginal;
    rows.push(
      `| ${labels[kind]} | ${kbs.map((kb) => fmt(kb / 1024)).join(" | ")} | ${fmt(marginal, 1)} |`,
    );
  }
  return {
    table: rows.join("\n"),
    checks: [
      `memory per idle user, Stampede fetch / raw Deno fetch loop: ${
        fmt(perUser["stampede-fetch"] / perUser.raw, 2)
      } (target <= 1.2)`,
      `memory per idle user, Stampede h1: ${fmt(perUser["stampede-h1"], 1)} KB (target <= 22 KB)`,
    ],
  };
}

/** Milliseconds from spawning a generator to its first request reaching a local target. */
async function startup(tmp: string) {
  let firstAt = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    if (firstAt === 0) firstAt = performance.now();
    return new Response("ok");
  });
  const url = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}/`;
  const commands: Record<string, string[]> = {
    "raw Deno fetch loop": [DENO, "run", "-A", `${BENCH}raw_fetch.ts`, url, "1", "1"],
    "Stampede (1 worker, h1)":
      argv`${DENO} run -A ${ROOT}cli.ts ${BENCH}plans/flat.plan.ts --host ${url} -u 1 -t 1s --workers 1 --summary ${tmp}/startup.json`,
  };
  if (which("locust")) {
    commands["Locust FastHttpUser"] =
      argv`/usr/bin/python3 /usr/bin/locust -f ${BENCH}locustfile.py --headless -u 1 -r 1 -t 1s --host ${url} --only-summary --loglevel ERROR`;
  }
  const rows = ["| generator | ms to first request (median of 3) |", "|---|---:|"];
  for (const [label, args] of Object.entries(commands)) {
    const samples: number[] = [];
    for (let i = 0; i < 3; i++) {
      firstAt = 0;
      const spawned = performance.now();
      await new Deno.Command("taskset", {
        args: ["-c", LOAD_CORE, ...args],
        stdout: "null",
        stderr: "null",
      })
        .output();
      samples.push(firstAt - spawned);
    }
    rows.push(`| ${label} | ${fmt(median(samples))} |`);
  }
  await server.shutdown();
  return rows.join("\n");
}

function versions(): string {
  const sh = (cmd: string) => {
    try {
      const out = new Deno.Command("sh", { args: ["-c", cmd], stdout: "piped", stderr: "piped" })
        .outputSync();
      return (decoder.decode(out.stdout) + decoder.decode(out.stderr)).trim().split("\n")[0];
    } catch {
      return "?";
    }
  };
  const cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").trim();
  return [
    `- machine: ${cpu}, ${navigator.hardwareConcurrency} cores, ${sh("uname -sr")}`,
    `- deno ${Deno.version.deno} (V8 ${Deno.version.v8}), node ${sh("node --version")}`,
    `- nginx ${sh("nginx -v").replace(/.*\//, "")}, wrk ${
      sh("wrk -v").split(" ")[1] ?? "?"
    }, locust ${sh("dpkg-query -W -f='${Version}' python3-locust")}, autocannon ${
      sh(`node -p 'require("${BENCH}.tools/node_modules/autocannon/package.json").version'`)
    }`,
    `- settings: ${ROUNDS} interleaved rounds of ${SECONDS} s, ${CONNECTIONS} connections/users, no think time; target on core ${TARGET_CORE}, generator on core ${LOAD_CORE}`,
  ].join("\n");
}

async function writeBenchmarks(section: string, body: string): Promise<void> {
  const path = `${ROOT}BENCHMARKS.md`;
  const text = await Deno.readTextFile(path);
  const start = `<!-- bench:${section}:start -->`;
  const end = `<!-- bench:${section}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < 0) throw new Error(`BENCHMARKS.md has no ${start} … ${end} markers`);
  await Deno.writeTextFile(
    path,
    text.slice(0, from + start.length) + "\n" + body + "\n" + text.slice(to),
  );
}

if (import.meta.main) {
  if (!which("taskset") || !which("nginx") || !which("/usr/bin/time")) {
    console.error("bench: needs taskset, nginx and GNU time; run bench/setup.sh first");
    Deno.exit(2);
  }
  // This harness (and the OTLP sink) live on the target's core, out of the generators' way.
  await new Deno.Command("taskset", {
    args: ["-cp", TARGET_CORE, String(Deno.pid)],
    stdout: "null",
  })
    .output();
  const tmp = await Deno.makeTempDir({ prefix: "stampede-bench-" });
  const nginx = await startNginx(tmp);
  const sink = new Deno.Command("taskset", {
    args: ["-c", TARGET_CORE, DENO, "run", "-A", `${BENCH}otlp_sink.ts`],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = sink.stdout.pipeThrough(new TextDecoderStream()).getReader();
  otlpPort = Number((await reader.read()).value!.trim().split("\n")[0]);
  try {
    const info = versions();
    console.log(info + "\n");
    const t = await throughput(nginx.url, tmp);
    console.log(t.table + "\n\n" + t.checks.join("\n"));
    if (t.skipped.length) console.log("not run: " + t.skipped.join("; "));
    let mem: { table: string; checks: string[] } | null = null;
    if (!flags["skip-memory"]) {
      mem = await memory(nginx.url, tmp);
      console.log("\n" + mem.table + "\n\n" + mem.checks.join("\n"));
    }
    let start: string | null = null;
    if (!flags["skip-startup"]) {
      start = await startup(tmp);
      console.log("\n" + start);
    }
    let open: string | null = null;
    if (!flags["skip-arrival"]) {
      open = await arrival(nginx.url, Number(flags["arrival-rate"]), SECONDS, tmp);
      console.log("\n" + open);
    }
    await Deno.writeTextFile(
      `${BENCH}results.json`,
      JSON.stringify(
        {
          at: new Date().toISOString(),
          info,
          throughput: t,
          memory: mem,
          startup: start,
          arrival: open,
        },
        null,
        2,
      ) + "\n",
    );
    if (flags.write) {
      await writeBenchmarks("setup", info);
      await writeBenchmarks(
        "throughput",
        t.table + "\n\n" + t.checks.map((c) => `- ${c}`).join("\n"),
      );
      if (mem) {
        await writeBenchmarks(
          "memory",
          mem.table + "\n\n" + mem.checks.map((c) => `- ${c}`).join("\n"),
        );
      }
      if (start) await writeBenchmarks("startup", start);
      if (open) await writeBenchmarks("arrival", open);
      // The tables are written plainly; `deno fmt` aligns them, as `deno task test` expects.
      await new Deno.Command(DENO, { args: ["fmt", "--quiet", `${ROOT}BENCHMARKS.md`] }).output();
      console.log("\nBENCHMARKS.md updated");
    }
  } finally {
    await nginx.stop();
    sink.kill("SIGTERM");
    await sink.status;
    await Deno.remove(tmp, { recursive: true });
  }
}
