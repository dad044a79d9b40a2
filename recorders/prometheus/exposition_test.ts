import assert from "node:assert/strict";
import {
  escapeLabelValue,
  ExpositionWriter,
  formatValue,
  negotiateFormat,
  toLabelName,
} from "./exposition.ts";

Deno.test("Accept negotiation: OpenMetrics when preferred or equal, text otherwise", () => {
  // Prometheus 2.x's scrape Accept header.
  assert.equal(
    negotiateFormat(
      "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    ),
    "openmetrics",
  );
  assert.equal(negotiateFormat(null), "text");
  assert.equal(negotiateFormat("*/*"), "text");
  assert.equal(negotiateFormat("text/plain;version=0.0.4"), "text");
  assert.equal(
    negotiateFormat("application/openmetrics-text;q=0.3,text/plain;q=0.9"),
    "text",
  );
  assert.equal(negotiateFormat("application/openmetrics-text;q=0"), "text");
});

Deno.test("OpenMetrics: counter families without _total, exemplars on buckets, # EOF", () => {
  const exemplar = { traceId: "a".repeat(32), spanId: "b".repeat(16), value: 0.042, timeMs: 1500 };
  const write = (format: "text" | "openmetrics") =>
    new ExpositionWriter({ run_id: "r" }, format)
      .family("x_total", "counter", "help")
      .sample("x_total", {}, 3)
      .family("d_seconds", "histogram", "durations")
      .histogram("d_seconds", {}, [0.01, 0.1], [1, 2, 0], 0.1, [undefined, exemplar])
      .text();
  const om = write("openmetrics");
  assert.match(om, /^# TYPE x counter$/m);
  assert.match(om, /^x_total\{run_id="r"\} 3$/m);
  assert.match(
    om,
    /^d_seconds_bucket\{run_id="r",le="0\.1"\} 3 # \{trace_id="a{32}",span_id="b{16}"\} 0\.042 1\.500$/m,
  );
  assert.ok(om.endsWith("# EOF\n"));
  const text = write("text");
  assert.match(text, /^# TYPE x_total counter$/m);
  assert.ok(!text.includes("trace_id") && !text.includes("# EOF"));
});

Deno.test("exposition: escaping, values and label names", () => {
  assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  assert.equal(formatValue(Infinity), "+Inf");
  assert.equal(formatValue(NaN), "NaN");
  assert.equal(formatValue(0.25), "0.25");
  assert.equal(toLabelName("build-id"), "build_id");
  assert.equal(toLabelName("9lives"), "_9lives");
  assert.equal(toLabelName("__secret"), "_secret");
  const text = new ExpositionWriter({ run_id: "r" })
    .family("x_total", "counter", "line one\nline \\ two")
    .sample("x_total", { name: '/q?a="1"' }, 3)
    .text();
  assert.equal(
    text,
    '# HELP x_total line one\\nline \\\\ two\n# TYPE x_total counter\nx_total{run_id="r",name="/q?a=\\"1\\""} 3\n',
  );
});
