// The json recorder end to end: real multi-worker runs against a counting server; every line is
// checked against docs/records.schema.json, and the final counts against what the server saw.
import assert from "node:assert/strict";
import {
  argv,
  type CountingServer,
  readSummary,
  ROOT,
  runCli,
  startCountingServer,
  tempDir,
} from "./helpers.ts";
import { type JsonRecord, readRecords } from "./json_records.ts";

const SHOP = `${ROOT}tests/plans/telemetry_shop.plan.ts`;
const CRASH = `${ROOT}tests/plans/crash.plan.ts`;
/** The first record that matches; fails the test when there is none. */
function find(records: JsonRecord[], match: (r: JsonRecord) => boolean, what: string): JsonRecord {
  const found = records.find(match);
  assert.ok(found, `no ${what} record`);
  return found;
}

const named = (records: JsonRecord[], name: string) =>
  records.filter((r) => r.telemetry_name === name);

/** A shop whose cart answers 503 to every 5th order; it notes the run ids tasks sent. */
function shopServer(): CountingServer & { runIds: Set<string>; teams: Set<string> } {
  const runIds = new Set<string>();
  const teams = new Set<string>();
  let orders = 0;
  const server = startCountingServer((req, url) => {
    if (url.pathname === "/cart") {
      return new Response("cart", { status: ++orders % 5 === 0 ? 503 : 201 });
    }
    runIds.add(req.headers.get("x-run-id") ?? "(none)");
    teams.add(req.headers.get("x-team") ?? "(none)");
    return new Response("products");
  });
  return Object.assign(server, { runIds, teams });
}

Deno.test("2 workers, console + json file: every line valid, one run's facts, exact final count", async () => {
  const server = shopServer();
  const dir = await tempDir();
  try {
    const out = `${dir.path}/out.ndjson`;
    const result = await runCli(
      argv`${SHOP} --host ${server.url} --exit-code-on-error 0 --workers 2 --run-time 3s --stop-timeout 2s --recorder console,json --json-file ${out} --tag team=checkout --tag env=staging --summary ${dir.path}/summary.json`,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Aggregated/, "the console recorder ran beside it");
    const summary = await readSummary(`${dir.path}/summary.json`);
    const records = await readRecords(out);

    // One run's facts on every record, and in every task (ctx.run).
    for (const r of records) {
      assert.equal(r.run_id, summary.run_id);
      assert.equal(r.testplan, "telemetry-shop");
      assert.deepEqual(r.tags, { team: "checkout", env: "staging" });
    }
    assert.deepEqual([...server.runIds], [summary.run_id]);
    assert.deepEqual([...server.teams], ["checkout"]);

    // Lifecycle: once each, in order, from the coordinator; each worker started and stopped.
    const events = records.filter((r) => r.telemetry_type === "event");
    for (const name of ["test.start", "spawn.complete", "test.stop"]) {
      const found = named(events, `stampede.event.${name}`);
      assert.equal(found.length, 1, name);
      assert.equal(found[0].source, "coordinator");
    }
    const start = records.findIndex((r) => r.telemetry_name === "stampede.event.test.start");
    const firstMetric = records.findIndex((r) => r.telemetry_type === "metrics");
    assert.ok(start < firstMetric, "test start comes before any metric");
    assert.equal(records[start].started_at, summary.started_at, "one start time everywhere");
    assert.equal(records.at(-1)!.telemetry_name, "stampede.event.test.stop");
    assert.equal(records.at(-1)!.reason, "completed");
    const spawned = named(events, "stampede.event.spawn.complete")[0];
    assert.deepEqual(spawned.users_by_kind, { browser: 6, buyer: 2 });
    for (const name of ["worker.started", "worker.stopped"]) {
      const sources = named(events, `stampede.event.${name}`).map((r) => r.source).sort();
      assert.deepEqual(sources, ["worker-1", "worker-2"], name);
    }

    // Requests: intervals, then one final and one endpoint record per (method, name).
    const stats = named(records, "stampede.request.metric.stats");
    assert.ok(stats.filter((r) => r.stats_type === "current").length >= 2);
    const finals = stats.filter((r) => r.stats_type === "final");
    assert.equal(finals.length, 1);
    const httpServed = server.total();
    const endpoints = stats.filter((r) => r.stats_type === "endpoint");
    const httpEndpoints = endpoints.filter((r) => r.method !== "TASK");
    assert.equal(httpEndpoints.reduce((sum, r) => sum + r.requests, 0), httpServed);
    const task = find(endpoints, (r) => r.method === "TASK" && r.name === "restock", "TASK");
    assert.equal(finals[0].requests, httpServed + task.requests);
    assert.equal(finals[0].requests, summary.totals.requests);
    assert.equal(task.status, "error");
    assert.deepEqual(task.errors, [{ error: "Error: out of stock", occurrences: task.failures }]);
    const cart = find(endpoints, (r) => r.method === "POST" && r.name === "/cart", "/cart");
    assert.equal(cart.requests, server.counts.get("POST /cart") ?? 0);
    assert.equal(cart.status_codes["503"], Math.floor(cart.requests / 5));
    assert.equal(cart.status, cart.failures > 0 ? "error" : "success");
    const products = find(endpoints, (r) => r.name === "/products", "/products");
    assert.deepEqual([products.status, products.failures], ["success", 0]);
    const keys = endpoints.map((r) => `${r.method} ${r.name}`);
    assert.equal(new Set(keys).size, keys.length, "one endpoint record per (method, name)");

    // System metrics for the coordinator and each worker.
    const sourcesOf = (name: string) =>
      [...new Set(named(records, name).map((r) => r.source))].sort();
    const everyone = ["coordinator", "worker-1", "worker-2"];
    assert.deepEqual(sourcesOf("stampede.system.metric.mem"), everyone);
    assert.deepEqual(sourcesOf("stampede.system.metric.event_loop_lag"), everyone);
    if (Deno.build.os === "linux") {
      assert.deepEqual(sourcesOf("stampede.system.metric.cpu"), everyone);
      assert.deepEqual(sourcesOf("stampede.system.metric.network"), ["coordinator"]);
      const network = named(records, "stampede.system.metric.network");
      const sent = network.reduce((sum, r) => sum + r.network_sent_bytes, 0);
      assert.ok(sent > 0, "requests to 127.0.0.1 go over loopback, which /proc/net/dev counts");
    }
    const rss = named(records, "stampede.system.metric.mem").filter((r) => "rss_bytes" in r);
    assert.ok(rss.length > 0 && rss.every((r) => r.source === "coordinator"));
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});

Deno.test("Ctrl-C: the final records are written and the file closed before the exit", async () => {
  const server = shopServer();
  const dir = await tempDir();
  try {
    const out = `${dir.path}/out.ndjson`;
    const result = await runCli(
      argv`${SHOP} --host ${server.url} --exit-code-on-error 0 --workers 2 --run-time 30s --stop-timeout 2s --recorder json --testplan checkout-smoke`,
      {
        env: { STAMPEDE_JSON_FILE: out, STAMPEDE_TAGS: "team=checkout,env=ci" },
        signal: "SIGINT",
        signalAfterMs: 2500,
      },
    );
    assert.equal(result.code, 130, result.stderr);
    assert.equal(result.stdout, "", "with a file, nothing goes to stdout");
    const records = await readRecords(out);
    for (const r of records) {
      assert.equal(r.testplan, "checkout-smoke");
      assert.deepEqual(r.tags, { team: "checkout", env: "ci" });
    }
    const final = find(records, (r) => r.stats_type === "final", "final");
    assert.equal(final.reason, "interrupted");
    const task = records.find((r) => r.stats_type === "endpoint" && r.method === "TASK");
    assert.equal(final.requests, server.total() + (task?.requests ?? 0));
    const last = records.at(-1)!;
    assert.deepEqual([last.telemetry_name, last.reason], [
      "stampede.event.test.stop",
      "interrupted",
    ]);
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});

Deno.test("a worker that dies: worker.failed, and the final records are still written", async () => {
  const server = startCountingServer();
  const dir = await tempDir();
  try {
    const out = `${dir.path}/out.ndjson`;
    const result = await runCli(
      argv`${CRASH} --host ${server.url} --exit-code-on-error 0 --workers 2 --run-time 2s --recorder json --json-file ${out}`,
      { env: { CRASH_WORKERS: "2", CRASH_MODE: "close" } },
    );
    assert.equal(result.code, 4, result.stderr);
    const records = await readRecords(out);
    const failed = named(records, "stampede.event.worker.failed");
    assert.deepEqual(failed.map((r) => [r.source, r.level]), [["worker-2", "WARN"]]);
    assert.equal(typeof failed[0].error, "string");
    const final = find(records, (r) => r.stats_type === "final", "final");
    assert.ok(final.requests > 0 && final.requests <= server.total());
    assert.equal(records.at(-1)!.telemetry_name, "stampede.event.test.stop");
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});

Deno.test("--json-histograms: final records carry histograms that re-merge offline", async () => {
  const { decodeHistogram } = await import("../core/stats/histogram.ts");
  const server = shopServer();
  const dir = await tempDir();
  try {
    const out = `${dir.path}/out.ndjson`;
    const result = await runCli(
      argv`${SHOP} --host ${server.url} --exit-code-on-error 0 --workers 2 --run-time 2s --stop-timeout 2s --recorder json --json-file ${out} --json-histograms --percentiles 50,99.9`,
    );
    assert.equal(result.code, 0, result.stderr);
    const records = await readRecords(out);
    const endpoints = records.filter((r) => r.stats_type === "endpoint" && r.method !== "TASK");
    const merged = decodeHistogram(endpoints[0].hdr_histogram_us);
    for (const e of endpoints.slice(1)) merged.add(decodeHistogram(e.hdr_histogram_us));
    const final = find(records, (r) => r.stats_type === "final", "final");
    const total = decodeHistogram(final.hdr_histogram_us);
    assert.equal(merged.totalCount, server.total());
    assert.equal(total.totalCount, server.total());
    assert.equal(merged.getValueAtPercentile(99.9) / 1000, final.percentile_99_9_ms);
    assert.ok("percentile_50_ms" in final && !("percentile_95_ms" in final));
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});

Deno.test("json on stdout keeps stdout to its records: the console's tables go to stderr", async () => {
  const server = shopServer();
  try {
    const result = await runCli(
      argv`${SHOP} --host ${server.url} --exit-code-on-error 0 --workers 1 --run-time 1s --recorder console,json`,
    );
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split("\n");
    assert.ok(lines.length > 5);
    for (const line of lines) JSON.parse(line); // every stdout line is a record
    assert.match(result.stderr, /Aggregated/, "the final table is on stderr");
  } finally {
    await server.shutdown();
  }
});
