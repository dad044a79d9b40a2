// Shared pieces of the Prometheus tests: the shop target, a real Prometheus server, scrapes.
import { type CountingServer, freePort, ROOT, startCountingServer } from "./helpers.ts";

/** The plan the Prometheus tests run. */
export const SHOP_PLAN = `${ROOT}tests/plans/prometheus_shop.plan.ts`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The target of {@link SHOP_PLAN}: `/fast` answers at once, `/slow` after 0–60 ms, `/cart`
 * after 2–20 ms and fails one time in ten with 503, `/item/N` after 0–5 ms.
 */
export function startShopServer(): CountingServer {
  return startCountingServer(async (_req, url) => {
    if (url.pathname === "/slow") await sleep(Math.random() * 60);
    else if (url.pathname === "/cart") {
      await sleep(2 + Math.random() * 18);
      if (Math.random() < 0.1) return new Response("down", { status: 503 });
      return new Response("ok", { status: 201 });
    } else if (url.pathname.startsWith("/item/")) await sleep(Math.random() * 5);
    return new Response("ok");
  });
}

/** The server's count for `METHOD /path`, with `/item/N` summed as `/item/:id`. */
export function servedCount(server: CountingServer, method: string, name: string): number {
  let n = 0;
  for (const [key, count] of server.counts) {
    const [m, path] = key.split(" ");
    if (m !== method) continue;
    if (path === name || (name === "/item/:id" && path.startsWith("/item/"))) n += count;
  }
  return n;
}

/**
 * The path of a binary from the Debian `prometheus` package, or a failure that says how to get
 * it: these tests must not pass silently where it is missing.
 */
export async function requireBinary(name: "prometheus" | "promtool"): Promise<string> {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin").split(":")) {
    const path = `${dir}/${name}`;
    try {
      if ((await Deno.stat(path)).isFile) return path;
    } catch {
      // not in this directory
    }
  }
  throw new Error(
    `Cannot run the Prometheus tests: "${name}" is not installed; install the Debian package ` +
      `with "apt-get install -y prometheus" (.ci/run does it from .ci/apt-packages)`,
  );
}

export { freePort };

/** One sample of an instant query's vector result. */
export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

/** A Prometheus server started by a test. */
export interface PrometheusServer {
  url: string;
  /** Runs an instant query (at `timeS`, Unix seconds, if given); throws on a query error. */
  query(expr: string, timeS?: number): Promise<PromSample[]>;
  /** Runs an instant query and returns Prometheus' answer as it is (status, error, data). */
  queryRaw(expr: string, timeS?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/**
 * Starts the Debian `prometheus` binary on 127.0.0.1 with a fresh TSDB, scraping `target`
 * (`host:port`) every `scrapeIntervalS`, and waits until it has tried its first scrape.
 * `flags` are added to its command line (e.g. `--enable-feature=exemplar-storage`).
 */
export async function startPrometheus(
  target: string,
  scrapeIntervalS = 1,
  flags: string[] = [],
): Promise<PrometheusServer> {
  const binary = await requireBinary("prometheus");
  const dir = await Deno.makeTempDir({ prefix: "stampede-prometheus-" });
  const config = await writeScrapeConfig(dir, target, scrapeIntervalS);
  const { url, stderr, stop } = spawnPrometheus(binary, config, dir, flags);
  const deadline = Date.now() + 20_000;
  if (!await pollUntil(deadline, 100, () => isReady(url))) {
    await stop();
    throw new Error(`Cannot start prometheus: not ready within 20 s; its log: ${await stderr}`);
  }
  // Prometheus hands new targets to its scrapers only every 5 s: wait for the first scrape (it
  // fails while Stampede is not up yet), so every second of the run gets scraped.
  if (!await pollUntil(deadline, 200, () => hasScraped(url))) {
    await stop();
    throw new Error(`Cannot start prometheus: no scrape of ${target} within 20 s`);
  }
  return { url, ...queryClient(url), stop };
}

/** Writes a config scraping `target` every `scrapeIntervalS` into `dir`; returns its path. */
async function writeScrapeConfig(
  dir: string,
  target: string,
  scrapeIntervalS: number,
): Promise<string> {
  const config = `${dir}/prometheus.yml`;
  await Deno.writeTextFile(
    config,
    [
      "global:",
      `  scrape_interval: ${scrapeIntervalS}s`,
      `  scrape_timeout: ${scrapeIntervalS}s`,
      "scrape_configs:",
      "  - job_name: stampede",
      "    static_configs:",
      `      - targets: ["${target}"]`,
      "",
    ].join("\n"),
  );
  return config;
}

/**
 * Spawns Prometheus with `config` and its TSDB in `dir`, on a free port; `stop` ends it and
 * removes `dir`, `stderr` is its log once it has ended.
 */
function spawnPrometheus(
  binary: string,
  config: string,
  dir: string,
  flags: string[],
): { url: string; stderr: Promise<string>; stop(): Promise<void> } {
  const port = freePort();
  const child = new Deno.Command(binary, {
    args: [
      `--config.file=${config}`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
      ...flags,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await child.status;
    await stderr;
    await Deno.remove(dir, { recursive: true });
  };
  return { url: `http://127.0.0.1:${port}`, stderr, stop };
}

/**
 * Calls `check` every `intervalMs` until it returns true (then true) or `deadline` (a
 * `Date.now()` in ms) has passed (then false).
 */
async function pollUntil(
  deadline: number,
  intervalMs: number,
  check: () => Promise<boolean>,
): Promise<boolean> {
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}

/** Whether the Prometheus at `url` answers ready; false while it is not listening. */
async function isReady(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/-/ready`);
    await res.body?.cancel();
    return res.ok;
  } catch {
    // not listening yet
    return false;
  }
}

/** Whether the Prometheus at `url` has tried a scrape (`up` has a sample, 0 or 1). */
async function hasScraped(url: string): Promise<boolean> {
  const res = await fetch(`${url}/api/v1/query?query=up`);
  const body = await res.json() as { data?: { result?: unknown[] } };
  return (body.data?.result?.length ?? 0) > 0;
}

/** The instant-query methods of {@link PrometheusServer} for the Prometheus at `url`. */
function queryClient(url: string): Pick<PrometheusServer, "query" | "queryRaw"> {
  const queryRaw = async (expr: string, timeS?: number) => {
    const params = new URLSearchParams({ query: expr });
    if (timeS !== undefined) params.set("time", String(timeS));
    const res = await fetch(`${url}/api/v1/query?${params}`);
    return await res.json() as Record<string, unknown>;
  };
  return {
    queryRaw,
    async query(expr, timeS) {
      const body = await queryRaw(expr, timeS) as {
        status: string;
        error?: string;
        data?: {
          resultType: string;
          result: { metric: Record<string, string>; value: [number, string] }[];
        };
      };
      if (body.status !== "success" || body.data?.resultType !== "vector") {
        throw new Error(
          `Prometheus query "${expr}" failed: ${body.error ?? body.data?.resultType}`,
        );
      }
      return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
  };
}

/**
 * Scrapes `url` every 200 ms until `done` resolves and returns the last answer that had the run
 * stopped (the final numbers, served during the linger), with the time it was fetched.
 */
export async function scrapeUntil(
  url: string,
  done: Promise<unknown>,
): Promise<{ text: string; atMs: number } | null> {
  let finished = false;
  done.finally(() => finished = true);
  let last: { text: string; atMs: number } | null = null;
  while (!finished) {
    try {
      const res = await fetch(url);
      const text = await res.text();
      if (/^stampede_state\{[^}]*state="stopped"\} 1$/m.test(text)) {
        last = { text, atMs: Date.now() };
      }
    } catch {
      // not up yet, or closed
    }
    await sleep(200);
  }
  return last;
}

/** Names of the samples in an exposition text (`x_bucket`, `x_sum`, ...), without labels. */
export function sampleNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    names.add(line.slice(0, line.search(/[{ ]/)));
  }
  return names;
}

/** Runs `promtool check metrics` on `text`; returns its exit code and what it printed. */
export async function promtoolCheckMetrics(
  text: string,
): Promise<{ code: number; output: string }> {
  const out = await pipeInto(await requireBinary("promtool"), ["check", "metrics"], text);
  return { code: out.code, output: out.stdout + out.stderr };
}

/** Runs `binary` with `text` on its stdin; returns its exit code and outputs. */
async function pipeInto(
  binary: string,
  args: string[],
  text: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(binary, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** A bucket sample with its exemplar, as a strict OpenMetrics parser read it. */
export interface ParsedExemplar {
  name: string;
  labels: Record<string, string>;
  exemplar: { labels: Record<string, string>; value: number };
}

const OPENMETRICS_PARSER = `
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        if s.exemplar is not None:
            out.append({"name": s.name, "labels": s.labels,
                        "exemplar": {"labels": s.exemplar.labels, "value": s.exemplar.value}})
print(json.dumps(out))
`;

/**
 * Parses `text` with the strict OpenMetrics parser of the Python client (Debian
 * `python3-prometheus-client`, independent of Stampede and of promtool, whose `check metrics`
 * reads only the 0.0.4 text format); throws with the parser's error when it is not valid.
 */
export async function parseOpenMetrics(text: string): Promise<ParsedExemplar[]> {
  const out = await pipeInto("/usr/bin/python3", ["-c", OPENMETRICS_PARSER], text);
  if (out.code !== 0) {
    const error = out.stderr.trim().split("\n").pop();
    throw new Error(
      `Not valid OpenMetrics (${error}); the parser needs the Debian package python3-prometheus-client`,
    );
  }
  return JSON.parse(out.stdout);
}
