// `deno task bench`: Stampede against the raw Deno fetch loop and its peers, on one machine.
// The target (nginx) and this harness are pinned to core 0, every load generator to core 1.
// Rounds are interleaved (A B C … A B C …) and medians reported. See BENCHMARKS.md.
//
//   deno task bench [--rounds 3] [--seconds 10] [--connections 64] [--only raw,wrk,...]
//                   [--skip-memory] [--skip-startup] [--skip-arrival] [--arrival-rate 20000]
//                   [--write]
import { parseArgs } from "node:util";
import { arrival } from "./arrival.ts";
import { memory, startup } from "./footprint.ts";
import { nginxRequests, startNginx } from "./nginx.ts";
import {
  benchTools,
  DENO,
  fmt,
  LOAD_CORE,
  type Measurement,
  median,
  ROOT,
  sleep,
  TARGET_CORE,
  type Tool,
  which,
} from "./tools.ts";

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
const BENCH = `${ROOT}bench/`;
/** Where in each run the target's count starts (see steadyRate). */
const STEADY_FROM_S = 2;
const STEADY = `(s ${STEADY_FROM_S}–${SECONDS - 0.5})`;
let otlpPort = 0;
const decoder = new TextDecoder();

/**
 * Requests/s the target counted (nginx's stub_status) in the window of a tool's run from
 * `STEADY_FROM_S` after its start to half a second before its run time is up: every tool measured
 * the same way, past its start-up (which the start-up table measures) and the runtime's warm-up.
 */
async function steadyRate(url: string, seconds: number): Promise<number> {
  const started = performance.now();
  const endMs = (seconds - 0.5) * 1000;
  if (endMs - STEADY_FROM_S * 1000 < 2000) return NaN;
  await sleep(STEADY_FROM_S * 1000);
  const from = await nginxRequests(url);
  const fromMs = performance.now();
  await sleep(endMs - (fromMs - started));
  const to = await nginxRequests(url);
  // Each stub_status request counts itself.
  return (to - from - 1) / ((performance.now() - fromMs) / 1000);
}

/** `of(round)` for each round, leaving out rounds where it is not a number. */
function overRounds(rounds: number, of: (round: number) => number): number[] {
  return Array.from({ length: rounds }, (_, i) => of(i)).filter(Number.isFinite);
}

async function throughput(url: string, tmp: string) {
  const only = flags.only?.split(",");
  const tools = benchTools({ connections: CONNECTIONS, seconds: SECONDS, otlpPort })
    .filter((t) => !only || only.includes(t.id));
  // Each tool's measurement in each round (a hole where it failed).
  const results = new Map<string, (Measurement | undefined)[]>();
  const skipped: string[] = [];
  for (const tool of tools) {
    const why = tool.missing();
    if (why) skipped.push(`${tool.label}: ${why}`);
    else results.set(tool.id, []);
  }
  // The tools the request-path targets compare run next to each other, the others after them.
  const first = ["wrk", "raw-socket", "stampede", "stampede-all"];
  const rank = (t: Tool) => first.includes(t.id) ? first.indexOf(t.id) : first.length;
  const runOrder = [...tools].sort((a, b) => rank(a) - rank(b));
  for (let round = 1; round <= ROUNDS; round++) {
    // A B C, C B A, A B C…: a drift of the machine's speed during a round falls on every tool
    // alike over two rounds.
    for (const tool of round % 2 ? runOrder : [...runOrder].reverse()) {
      if (!results.has(tool.id)) continue;
      const dir = await Deno.makeTempDir({ dir: tmp });
      const steady = steadyRate(url, SECONDS);
      try {
        const m = { ...await tool.run(url, dir), steadyRps: await steady };
        results.get(tool.id)![round - 1] = m;
        console.error(
          `round ${round} ${tool.id}: ${fmt(m.rps)} req/s (${
            fmt(m.steadyRps)
          } at the target ${STEADY}), p50 ${fmt(m.p50Ms, 2)} ms, p99 ${fmt(m.p99Ms, 2)} ms, cpu ${
            fmt(m.cpuS, 1)
          } s, rss ${fmt(m.rssMb)} MB`,
        );
      } catch (error) {
        await steady.catch(() => {});
        console.error(`round ${round} ${tool.id}: FAILED ${(error as Error).message}`);
      }
      await sleep(500);
    }
  }
  const medians = new Map<string, Measurement>();
  for (const [id, all] of results) {
    const ms = all.filter((m) => m !== undefined);
    if (ms.length === 0) continue;
    const of = (key: keyof Measurement) => median(ms.map((m) => m[key] ?? NaN));
    medians.set(id, {
      rps: of("rps"),
      steadyRps: of("steadyRps"),
      p50Ms: of("p50Ms"),
      p99Ms: of("p99Ms"),
      cpuS: of("cpuS"),
      rssMb: of("rssMb"),
    });
  }
  /** `a` / `b` in each round: of their steady rates, or of their whole-run rates with `whole`. */
  const ratios = (a: string, b: string, whole = false) =>
    overRounds(ROUNDS, (i) => {
      const [x, y] = [results.get(a)?.[i], results.get(b)?.[i]];
      return whole
        ? (x?.rps ?? NaN) / (y?.rps ?? NaN)
        : (x?.steadyRps ?? NaN) / (y?.steadyRps ?? NaN);
    });
  /** `a` / `b` as the median of their ratios round by round (each pair ran minutes apart at most). */
  const ratio = (a: string, b: string, whole = false) => {
    const values = ratios(a, b, whole);
    return values.length ? median(values) : NaN;
  };
  const rows = [
    `| tool | req/s | req/s at the target ${STEADY} | p50 ms | p99 ms | CPU s | peak RSS MB | × raw Deno | × wrk |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const tool of tools) {
    const m = medians.get(tool.id);
    if (!m) continue;
    rows.push(
      `| ${tool.label} | ${fmt(m.rps)} | ${fmt(m.steadyRps ?? NaN)} | ${fmt(m.p50Ms, 2)} | ${
        fmt(m.p99Ms, 2)
      } | ${fmt(m.cpuS, 1)} | ${fmt(m.rssMb)} | ${fmt(ratio(tool.id, "raw"), 2)} | ${
        fmt(ratio(tool.id, "wrk"), 2)
      } |`,
    );
  }
  const cost = (off: string, on: string) => fmt(100 * (1 - ratio(on, off)), 1);
  /**
   * `a` / `b`, then the target, then the lowest and highest round (how far one run's rounds
   * spread on this machine) and the same median from the whole runs.
   */
  const both = (a: string, b: string, target: string) => {
    const rounds = ratios(a, b);
    const spread = rounds.length > 1
      ? `rounds ${fmt(Math.min(...rounds), 2)}–${fmt(Math.max(...rounds), 2)}; `
      : "";
    return `${fmt(ratio(a, b), 3)}${target} (${spread}whole runs as each tool reports them: ${
      fmt(ratio(a, b, true), 3)
    })`;
  };
  const checks = [
    `Stampede fetch (1 worker, all recorders) / raw Deno fetch loop: ${
      both("stampede-fetch-all", "raw", ", target ≥ 0.95")
    }`,
    `cost of the recorders, fetch engine (console only vs all on): ${
      cost("stampede-fetch", "stampede-fetch-all")
    } %, target ≤ 3 %`,
    `cost of the recorders, h1 engine (console only vs all on): ${
      cost("stampede", "stampede-all")
    } %, target ≤ 3 %`,
    `cost of traces, h1 engine (off vs --traces at ratio 0.01, at ratio 1): ${
      cost("stampede", "stampede-traces-0.01")
    } %, ${cost("stampede", "stampede-traces-1")} %`,
    `raw Deno socket loop / wrk (the runtime's floor): ${both("raw-socket", "wrk", "")}`,
    `Stampede h1 (1 worker, console) / raw Deno socket loop: ${
      both("stampede", "raw-socket", ", target ≥ 0.87")
    }`,
    `Stampede h1 (1 worker, console) / wrk: ${both("stampede", "wrk", ", target ≥ 0.9")}`,
    `Stampede h1 (1 worker, all recorders) / wrk: ${
      both("stampede-all", "wrk", ", target ≥ 0.85")
    }`,
  ];
  return { table: rows.join("\n"), checks, skipped, medians: Object.fromEntries(medians) };
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
      mem = await memory(nginx.url, tmp, flags["memory-users"].split(",").map(Number));
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
