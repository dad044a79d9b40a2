// Exemplars end to end: a real Prometheus (the Debian binary, exemplar storage on) scrapes a run
// with traces on; it negotiates OpenMetrics, and the exemplars it stores for the latency
// histogram point at traces whose spans were exported. The OpenMetrics text is checked by a
// strict parser of its own, and each exemplar sits in its bucket.
import assert from "node:assert/strict";
import { readSummary, runCli, tempDir } from "./helpers.ts";
import { startOtlpReceiver } from "./otlp_receiver.ts";
import {
  freePort,
  parseOpenMetrics,
  promtoolCheckMetrics,
  SHOP_PLAN,
  startPrometheus,
  startShopServer,
} from "./prometheus_helpers.ts";

const OPENMETRICS = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Fetches `url` in both formats every 300 ms until `done`; returns the last of each. */
async function scrapeBoth(url: string, done: Promise<unknown>) {
  let finished = false;
  done.finally(() => finished = true);
  let openMetrics = "";
  let text = "";
  while (!finished) {
    try {
      const om = await fetch(url, { headers: { accept: OPENMETRICS } });
      assert.match(om.headers.get("content-type") ?? "", /^application\/openmetrics-text/);
      const body = await om.text();
      if (body.includes('state="stopped"} 1')) openMetrics = body;
      const plain = await fetch(url);
      const plainBody = await plain.text();
      if (plainBody.includes('state="stopped"} 1')) text = plainBody;
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      // not up yet, or closed
    }
    await sleep(300);
  }
  return { openMetrics, text };
}

interface StoredExemplars {
  seriesLabels: Record<string, string>;
  exemplars: { labels: Record<string, string>; value: string; timestamp: number }[];
}

Deno.test("a real Prometheus with exemplar storage keeps exemplars whose trace ids are exported spans", async () => {
  const server = startShopServer();
  const rx = startOtlpReceiver();
  const dir = await tempDir();
  const metricsPort = freePort();
  const prometheus = await startPrometheus(`127.0.0.1:${metricsPort}`, 1, [
    "--enable-feature=exemplar-storage",
  ]);
  try {
    const startS = Date.now() / 1000 - 5;
    const cli = runCli([
      SHOP_PLAN,
      ...["--host", server.url, "--exit-code-on-error", "0", "--run-time", "5s"],
      ...["--workers", "2", "--recorder", "prometheus"],
      ...["--prometheus-listen", `127.0.0.1:${metricsPort}`, "--prometheus-linger", "3s"],
      ...["--traces", "--trace-sample-ratio", "0.5", "--trace-endpoint", rx.url],
      ...["--summary", `${dir.path}/summary.json`],
    ], { env: { OTEL_BSP_SCHEDULE_DELAY: "200", OTEL_BSP_MAX_QUEUE_SIZE: "100000" } });
    const { openMetrics, text } = await scrapeBoth(
      `http://127.0.0.1:${metricsPort}/metrics`,
      cli,
    );
    const result = await cli;
    assert.equal(result.code, 0, result.stderr);
    const summary = await readSummary(`${dir.path}/summary.json`);
    const exportedTraces = new Set(rx.spans.map((s) => s.traceId));
    assert.ok(exportedTraces.size > 0, "no span was exported");

    // The OpenMetrics text: valid to a strict parser, exemplars on buckets that hold them.
    assert.ok(openMetrics.endsWith("# EOF\n"));
    const parsed = await parseOpenMetrics(openMetrics);
    assert.ok(parsed.length > 0, "no exemplar in the OpenMetrics exposition");
    for (const p of parsed) {
      assert.equal(p.name, "stampede_request_duration_seconds_bucket");
      assert.ok(exportedTraces.has(p.exemplar.labels.trace_id), p.exemplar.labels.trace_id);
      assert.match(p.exemplar.labels.span_id, /^[0-9a-f]{16}$/);
      const le = Number(p.labels.le === "+Inf" ? Infinity : p.labels.le);
      assert.ok(p.exemplar.value <= le, `${p.exemplar.value} above its bucket le=${le}`);
    }
    // The text format is unchanged by traces: promtool still passes it.
    const check = await promtoolCheckMetrics(text);
    assert.equal(check.code, 0, check.output);
    assert.ok(!text.includes("trace_id"));

    // Prometheus negotiated OpenMetrics and stored exemplars of the run's latency histogram.
    const params = new URLSearchParams({
      query: `stampede_request_duration_seconds_bucket{run_id="${summary.run_id}"}`,
      start: String(startS),
      end: String(Date.now() / 1000 + 5),
    });
    const res = await fetch(`${prometheus.url}/api/v1/query_exemplars?${params}`);
    const body = await res.json() as { status: string; data: StoredExemplars[] };
    assert.equal(body.status, "success", JSON.stringify(body));
    const stored = body.data.flatMap((series) =>
      series.exemplars.map((e) => ({ le: series.seriesLabels.le, ...e }))
    );
    assert.ok(stored.length > 0, "Prometheus stored no exemplar");
    for (const e of stored) {
      assert.ok(exportedTraces.has(e.labels.trace_id), `trace ${e.labels.trace_id} not exported`);
      assert.ok(Number(e.value) <= Number(e.le === "+Inf" ? Infinity : e.le));
    }
    const up = await prometheus.query(`max_over_time(up[1m])`);
    assert.equal(up[0]?.value, 1);
  } finally {
    await prometheus.stop();
    await server.shutdown();
    await rx.shutdown();
    await dir.remove();
  }
});
