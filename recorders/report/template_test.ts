import assert from "node:assert/strict";
import { createRunInfo } from "../../core/run_info.ts";
import type { ReportAssets } from "./assets.ts";
import { ReportCollector, type ReportData } from "./collect.ts";
import { CONTENT_SECURITY_POLICY, escapeHtml, renderReport, scriptJson } from "./template.ts";

const assets: ReportAssets = {
  chartScript: "var uPlot = function () {};",
  chartStyle: ".u-wrap{}",
  pageScript: "/* page */",
  pageStyle: "body{}",
};

function data(over: Partial<ReportData> = {}): ReportData {
  const run = createRunInfo({
    testplan: "<shop>",
    host: "http://127.0.0.1:1",
    tags: { "team": 'a"b<c>' },
  });
  return { ...new ReportCollector(run).data(), ...over };
}

Deno.test("the page fetches nothing: a CSP of inline scripts and styles only, no src or href", () => {
  const html = renderReport(data(), assets);
  assert.ok(html.includes(`content="${CONTENT_SECURITY_POLICY}"`));
  assert.match(CONTENT_SECURITY_POLICY, /default-src 'none'/);
  assert.doesNotMatch(html, /\ssrc=|\shref=/);
  assert.ok(html.includes("<script>var uPlot = function () {};</script>"));
});

Deno.test("text from the plan and the tags is escaped in HTML and in the JSON data", () => {
  const html = renderReport(data(), assets);
  assert.ok(html.includes("<h1>&#60;shop&#62;</h1>"));
  assert.ok(html.includes("team=a&#34;b&#60;c&#62;"));
  assert.doesNotMatch(html, /<shop>|<c>/);
  assert.equal(scriptJson({ name: "</script><script>alert(1)" }).includes("</"), false);
  assert.deepEqual(JSON.parse(scriptJson({ name: "</script>\u2028" })), {
    name: "</script>\u2028",
  });
  assert.equal(escapeHtml(`&<>"'`), "&#38;&#60;&#62;&#34;&#39;");
  assert.throws(
    () => renderReport(data(), { ...assets, pageScript: "x = '</script>'" }),
    /Cannot inline the page script/,
  );
});

Deno.test("thresholds and checks appear when the final data carries them, with pass and fail", () => {
  assert.doesNotMatch(renderReport(data(), assets), /id="thresholds"|id="checks"/);
  const html = renderReport(
    data({
      thresholds: [
        { metric: "http.duration", expression: "p(95)<50", value: 42, limit: 50, ok: true },
        { metric: "http.failures", expression: "rate<0.01", value: 0.2, limit: 0.01, ok: false },
      ],
      checks: [{ name: "status is 200", passes: 99, fails: 1 }],
    }),
    assets,
  );
  assert.match(
    html,
    /<section id="thresholds">.*✓ held.*p\(95\)&#60;50.*✗ crossed.*rate&#60;0\.01/s,
  );
  assert.match(html, /1 of 2 thresholds crossed/);
  assert.match(html, /<section id="checks">.*status is 200.*99.*1.*99\.00%/s);
});

Deno.test("the corrected-latency chart is there only when the data has corrected latencies", () => {
  assert.doesNotMatch(renderReport(data(), assets), /data-chart="corrected"/);
  const base = data();
  const html = renderReport(
    data({ timeline: { ...base.timeline, corrected: { p50Ms: [], p95Ms: [], p99Ms: [] } } }),
    assets,
  );
  assert.match(html, /data-chart="corrected"/);
  assert.doesNotMatch(html, /data-chart="spectrum"/, "no spectrum before the final stats");
});
