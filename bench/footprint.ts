// The generators' footprint in `deno task bench` (bench/run.ts): RSS per idle user, and the time
// from spawning a generator to its first request.
import { argv } from "../tests/helpers.ts";
import { BENCH, DENO, fmt, LOAD_CORE, median, ROOT, sleep, which } from "./tools.ts";

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

export async function memory(url: string, tmp: string, counts: number[]) {
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
export async function startup(tmp: string) {
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
