// The generators `deno task bench` compares (bench/run.ts): how each is started, pinned to the
// load core under GNU time, and how its requests/s, latency, CPU and peak RSS are read.
import { builtinRegistry } from "../recorders/builtin.ts";
import { argv, freePort } from "../tests/helpers.ts";

export const ROOT = new URL("../", import.meta.url).pathname;
export const BENCH = `${ROOT}bench/`;
export const DENO = Deno.execPath();
/** The target (nginx), the harness and the OTLP sink run here. */
export const TARGET_CORE = "0";
/** Every load generator runs here. */
export const LOAD_CORE = "1";

/** What every generator of a run is given. */
export interface BenchSettings {
  connections: number;
  seconds: number;
  /** The local OTLP sink's port (bench/otlp_sink.ts). */
  otlpPort: number;
}

export interface Measurement {
  /** Requests/s over the whole run, as the tool reports it. */
  rps: number;
  /** Requests/s the target counted past start-up (bench/run.ts's steadyRate), set by the harness. */
  steadyRps?: number;
  p50Ms: number;
  p99Ms: number;
  cpuS: number;
  rssMb: number;
}

export interface Tool {
  id: string;
  label: string;
  /** Why it cannot run here, or null. */
  missing(): string | null;
  run(url: string, tmp: string): Promise<Measurement>;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const decoder = new TextDecoder();

export function which(command: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${command}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Runs `args` pinned to the load core under GNU time; returns its stdout and CPU/RSS. */
export async function timed(
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

function stampede(
  settings: BenchSettings,
  id: string,
  label: string,
  extra: (tmp: string) => string[],
): Tool {
  return {
    id,
    label,
    missing: () => null,
    async run(url, tmp) {
      const summaryPath = `${tmp}/summary.json`;
      const r = await timed([
        ...argv`${DENO} run -A ${ROOT}cli.ts ${BENCH}plans/flat.plan.ts --host ${url} --users ${settings.connections} --spawn-rate 100000 --run-time ${settings.seconds}s --summary ${summaryPath}`,
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

/** The flags that turn on every telemetry recorder this build has. */
function allRecorders(tmp: string, otlpPort: number): string[] {
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
function traceFlags(ratio: number, otlpPort: number): string[] {
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
function rawLoop(settings: BenchSettings, id: string, label: string, script: string): Tool {
  return {
    id,
    label,
    missing: () => null,
    async run(url, tmp) {
      const r = await timed(
        [
          DENO,
          "run",
          "-A",
          `${BENCH}${script}`,
          url,
          String(settings.connections),
          String(settings.seconds),
        ],
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

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export const fmt = (n: number, digits = 0) => Number.isFinite(n) ? n.toFixed(digits) : "–";

/** The generators, in the order of the table. */
export function benchTools(settings: BenchSettings): Tool[] {
  return [
    rawLoop(settings, "raw", "raw Deno fetch loop", "raw_fetch.ts"),
    rawLoop(settings, "raw-socket", "raw Deno socket loop (no HTTP parsing)", "raw_socket.ts"),
    stampede(settings, "stampede", "Stampede h1, 1 worker, console", () => ["--workers", "1"]),
    stampede(
      settings,
      "stampede-all",
      "Stampede h1, 1 worker, all recorders",
      (tmp) => ["--workers", "1", ...allRecorders(tmp, settings.otlpPort)],
    ),
    ...[0.01, 1].map((ratio) =>
      stampede(
        settings,
        `stampede-traces-${ratio}`,
        `Stampede h1, 1 worker, console, --traces at ratio ${ratio}`,
        () => ["--workers", "1", ...traceFlags(ratio, settings.otlpPort)],
      )
    ),
    stampede(settings, "stampede-w2", "Stampede h1, 2 workers, console", () => ["--workers", "2"]),
    stampede(
      settings,
      "stampede-fetch",
      "Stampede fetch, 1 worker, console",
      () => ["--workers", "1", "--http-engine", "fetch"],
    ),
    stampede(
      settings,
      "stampede-fetch-all",
      "Stampede fetch, 1 worker, all recorders",
      (
        tmp,
      ) => ["--workers", "1", "--http-engine", "fetch", ...allRecorders(tmp, settings.otlpPort)],
    ),
    {
      id: "wrk",
      label: "wrk (1 thread)",
      missing: () => which("wrk") ? null : "wrk not installed (bench/setup.sh)",
      async run(url, tmp) {
        const r = await timed(
          ["wrk", "-t1", `-c${settings.connections}`, `-d${settings.seconds}s`, "--latency", url],
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
          [
            "node",
            autocannonBin,
            "-c",
            String(settings.connections),
            "-d",
            String(settings.seconds),
            "-j",
            url,
          ],
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
          argv`/usr/bin/python3 /usr/bin/locust -f ${BENCH}locustfile.py --headless -u ${settings.connections} -r ${settings.connections} -t ${settings.seconds}s --host ${url} --csv ${tmp}/locust --only-summary --loglevel ERROR`,
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
          rps: col("Request Count") / settings.seconds,
          p50Ms: col("50%"),
          p99Ms: col("99%"),
          cpuS: r.cpuS,
          rssMb: r.rssMb,
        };
      },
    })),
  ];
}
