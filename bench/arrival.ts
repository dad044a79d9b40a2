// The arrival-rate executor under load (`deno task bench`, section "arrival"), on core 1:
//   1. the scheduler alone: 20 000 iterations/s for 10 s on users that return at once, recording
//      how late each started (now - due) in an HDR histogram;
//   2. end to end: the CLI at 20 000/s (h1, one worker) against nginx on core 0, whose own count
//      (stub_status) the summary is checked against.
//
//   deno run -A bench/arrival.ts [--rate 20000] [--seconds 10]
import { parseArgs } from "node:util";
import { ArrivalExecutor } from "../core/run/arrival_executor.ts";
import { createHistogram, percentilesUs, recordLatencyUs } from "../core/stats/histogram.ts";
import { argv } from "../tests/helpers.ts";
import { nginxRequests, startNginx } from "./nginx.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const DENO = Deno.execPath();

/** The scheduler alone, in this process: achieved rate and start lateness (ms). */
export async function schedulerAlone(rate: number, seconds: number) {
  const lateness = createHistogram();
  let started = 0;
  let dropped = 0;
  const executor = new ArrivalExecutor({
    kind: {
      kind: "bench",
      stages: [{ durationMs: 0, from: rate, to: rate }],
      endless: true,
      pool: 64,
      maxUsers: 64,
      maxLatenessMs: 1000,
      firstIndex: 0,
      untilMs: seconds * 1000,
    },
    worker: 0,
    workers: 1,
    createUser: () =>
      Promise.resolve({
        iterate: (dueMs: number) => {
          recordLatencyUs(lateness, Math.max(0, Math.round((performance.now() - dueMs) * 1000)));
          return Promise.resolve(true);
        },
      }),
    started: () => started++,
    dropped: (n) => dropped += n,
  });
  await executor.prepare();
  const begin = performance.now();
  executor.begin(begin);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000 + 200));
  executor.stop();
  const [p50, p99, p999] = percentilesUs(lateness, [50, 99, 99.9]).map((us) => us / 1000);
  return { started, dropped, due: executor.due, p50, p99, p999, maxMs: lateness.maxValue / 1000 };
}

/** The CLI at `rate` (core 1) against nginx (core 0), whose own count it is checked against. */
export async function endToEnd(url: string, rate: number, seconds: number, tmp: string) {
  const before = await nginxRequests(url);
  const summaryPath = `${tmp}/arrival.json`;
  await new Deno.Command("taskset", {
    args:
      argv`-c 1 ${DENO} run -A ${ROOT}cli.ts ${ROOT}tests/plans/one_request.plan.ts --host ${url} --arrival-rate ${rate}/s --users 64 --max-lateness 1s -t ${seconds}s --workers 1 --summary ${summaryPath}`,
    stdout: "null",
    stderr: "null",
  }).output();
  const summary = JSON.parse(await Deno.readTextFile(summaryPath));
  // The two status requests count themselves once.
  const served = await nginxRequests(url) - before - 1;
  return { summary, served };
}

/** Both, as a Markdown section for BENCHMARKS.md. */
export async function arrival(
  url: string,
  rate: number,
  seconds: number,
  tmp: string,
): Promise<string> {
  await new Deno.Command("taskset", { args: ["-cp", "1", String(Deno.pid)], stdout: "null" })
    .output();
  const alone = await schedulerAlone(rate, seconds);
  await new Deno.Command("taskset", { args: ["-cp", "0", String(Deno.pid)], stdout: "null" })
    .output();
  const { summary, served } = await endToEnd(url, rate, seconds, tmp);
  const t = summary.totals;
  const due = rate * seconds;
  const f = (n: number, d = 2) => Number.isFinite(n) ? n.toFixed(d) : "–";
  return [
    `| ${rate}/s for ${seconds} s, 1 worker on one core | due | started | dropped | achieved/s | start lateness p50 / p99 / p99.9 ms |`,
    "|---|---:|---:|---:|---:|---|",
    `| the scheduler alone (users that return at once) | ${alone.due} | ${alone.started} | ${alone.dropped} | ${
      f(alone.started / seconds, 0)
    } | ${f(alone.p50)} / ${f(alone.p99)} / ${f(alone.p999)} |`,
    `| the CLI against nginx (h1, 64 users) | ${due} | ${t.iterations} | ${t.dropped_iterations} | ${
      f(t.iterations / seconds, 0)
    } | corrected − service p99: ${
      f((t.corrected_percentiles_ms?.["99"] ?? NaN) - t.percentiles_ms["99"])
    } |`,
    "",
    `- nginx counted ${served} requests; the summary ${t.requests} + ${t.aborted} cut off by the stop (${
      served === t.requests + t.aborted ? "equal" : "NOT EQUAL"
    }); started ${t.iterations}, + dropped = ${t.iterations + t.dropped_iterations} of ${due} due`,
    `- achieved rate / configured: ${f(t.iterations / due, 4)} (the scheduler alone: ${
      f(alone.started / alone.due, 4)
    })`,
    `- service p50 / p99 ${f(t.percentiles_ms["50"])} / ${
      f(t.percentiles_ms["99"])
    } ms; corrected p50 / p99 ${f(t.corrected_percentiles_ms?.["50"] ?? NaN)} / ${
      f(t.corrected_percentiles_ms?.["99"] ?? NaN)
    } ms`,
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rate: { type: "string", default: "20000" },
      seconds: { type: "string", default: "10" },
    },
  });
  const tmp = await Deno.makeTempDir({ prefix: "stampede-arrival-" });
  const nginx = await startNginx(tmp);
  try {
    console.log(await arrival(nginx.url, Number(values.rate), Number(values.seconds), tmp));
  } finally {
    await nginx.stop();
    await Deno.remove(tmp, { recursive: true });
  }
}
