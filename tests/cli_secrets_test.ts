// Secrets stay out of every output: credentials in the host and the OTLP endpoint, and OTLP
// headers, appear in no record, summary, log line or metric, while the requests still run.
import assert from "node:assert/strict";
import { argv, freePort, ROOT, runCli, startCountingServer, tempDir } from "./helpers.ts";

Deno.test("credentials in --host and the OTLP endpoint never appear in any output", async () => {
  const server = startCountingServer();
  const dir = await tempDir();
  const metricsPort = freePort();
  const deadPort = freePort();
  try {
    const host = `http://alice:hunter2secret@127.0.0.1:${server.port}`;
    let scrape = "";
    const result = await runCli(
      argv`${ROOT}tests/plans/counting.plan.ts --host ${host} --run-time 3s --workers 1 --recorder console,json,prometheus,otel --json-file ${dir.path}/records.ndjson --prometheus-listen 127.0.0.1:${metricsPort} --prometheus-linger 0s --otel-endpoint http://bob:otlpsecret@127.0.0.1:${deadPort} --otel-interval 1s --summary ${dir.path}/summary.json`,
      {
        env: {
          OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer headersecret",
          OTEL_EXPORTER_OTLP_TIMEOUT: "1000",
        },
        onStart: () => {
          setTimeout(async () => {
            try {
              scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
            } catch { /* asserted below */ }
          }, 2000);
        },
      },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.ok(server.total() > 0, "the requests ran");
    assert.match(scrape, /stampede_requests_total/, "the endpoint was scraped during the run");
    const records = await Deno.readTextFile(`${dir.path}/records.ndjson`);
    const summary = await Deno.readTextFile(`${dir.path}/summary.json`);
    assert.match(result.stderr, /Cannot export metrics to "http:\/\/bob:\*\*\*@127\.0\.0\.1/);
    assert.match(summary, /"host": "http:\/\/alice:\*\*\*@127\.0\.0\.1:\d+"/);
    for (
      const [what, text] of Object.entries({
        stdout: result.stdout,
        stderr: result.stderr,
        records,
        summary,
        scrape,
      })
    ) {
      assert.doesNotMatch(text, /hunter2secret|otlpsecret|headersecret/, `a secret in ${what}`);
    }
  } finally {
    await dir.remove();
    await server.shutdown();
  }
});
