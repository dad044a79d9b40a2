import assert from "node:assert/strict";
import { UsageError } from "../../core/errors.ts";
import { PrometheusMetrics } from "./metrics.ts";
import {
  MAX_LINGER_MS,
  parseBuckets,
  parseLinger,
  parseListen,
  PrometheusRecorder,
  serveMetrics,
} from "./recorder.ts";
import { cell, final, run } from "./snapshot_fixtures.ts";

Deno.test("options: listen addresses, buckets and linger are checked before the run", () => {
  assert.deepEqual(parseListen("127.0.0.1:9646"), { hostname: "127.0.0.1", port: 9646 });
  assert.deepEqual(parseListen(":9646"), { hostname: "0.0.0.0", port: 9646 });
  assert.deepEqual(parseListen("9646"), { hostname: "127.0.0.1", port: 9646 });
  assert.deepEqual(parseListen("[::1]:0"), { hostname: "::1", port: 0 });
  assert.throws(() => parseListen("localhost"), UsageError);
  assert.throws(() => parseListen("1.2.3.4:70000"), UsageError);
  assert.deepEqual(parseBuckets("0.01, 0.1,1"), [0.01, 0.1, 1]);
  assert.throws(() => parseBuckets("0.1,0.01"), /ascending/);
  assert.throws(() => parseBuckets("0,1"), UsageError);
  assert.throws(() => parseBuckets(""), UsageError);
  assert.equal(parseLinger("2s"), 2000);
  assert.throws(() => parseLinger(`${MAX_LINGER_MS + 1}ms`), /at most/);
});

Deno.test("the server answers on /metrics and /export/prometheus, lingers at the stop, then closes", async () => {
  const metrics = new PrometheusMetrics({ run, percentiles: [50] });
  const server = serveMetrics({ hostname: "127.0.0.1", port: 0 }, () => metrics.render());
  const base = `http://127.0.0.1:${server.address.port}`;
  assert.notEqual(server.address.port, 0);
  for (const path of ["/metrics", "/export/prometheus"]) {
    const res = await fetch(base + path);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    assert.match(await res.text(), /^stampede_state\{.*state="spawning"\} 1$/m);
  }
  const missing = await fetch(base + "/nope");
  assert.equal(missing.status, 404);
  await missing.body?.cancel();

  assert.throws(
    () => serveMetrics({ hostname: "127.0.0.1", port: server.address.port }, () => ""),
    /Cannot listen on "127\.0\.0\.1:\d+" for the prometheus recorder: the address is in use/,
  );

  const recorder = new PrometheusRecorder(metrics, server, 300);
  metrics.final(final([cell("GET", "/x", 200, [100])]));
  const stopped = recorder.output.stop("completed");
  const during = await fetch(base + "/metrics", { headers: { connection: "close" } });
  assert.match(await during.text(), /^stampede_requests_total\{.*name="\/x",status="200"\} 1$/m);
  await stopped;
  await assert.rejects(() => fetch(base + "/metrics"));
});
