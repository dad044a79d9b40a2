// The report page: one HTML file with its styles, its scripts and its data inline. Tables and
// facts are written here as HTML (readable without scripts); the charts are drawn in the page by
// ./page.js from the JSON data. A Content-Security-Policy lets the page fetch nothing at all.
import { formatDuration } from "../../core/duration.ts";
import { formatMs } from "../console.ts";
import type { ReportAssets } from "./assets.ts";
import { type EndpointRow, type ReportData, TABLE_PERCENTILES } from "./collect.ts";

/** Nothing is fetched when the report is viewed: scripts and styles are inline, images data:. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe inside a `<script>` element: no `<` can close it or open a comment. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** Inline script text; refuses text that would end its `<script>` element early. */
function inlineScript(text: string, what: string): string {
  if (/<\/script|<!--/i.test(text)) {
    throw new Error(`Cannot inline ${what}: it contains "</script" or "<!--"`);
  }
  return text;
}

function table(head: string[], rows: string[][], numericFrom: number): string {
  const cell = (tag: string, text: string, i: number) =>
    `<${tag}${i >= numericFrom ? ' class="num"' : ""}>${text}</${tag}>`;
  return `<table><thead><tr>${head.map((h, i) => cell("th", h, i)).join("")}</tr></thead>` +
    `<tbody>${
      rows.map((r) => `<tr>${r.map((c, i) => cell("td", c, i)).join("")}</tr>`).join("")
    }</tbody></table>`;
}

function ms(value: number | null): string {
  return value === null ? "–" : formatMs(value);
}

function percent(part: number, whole: number): string {
  return whole === 0 ? "0.00%" : `${((100 * part) / whole).toFixed(2)}%`;
}

function endpointCells(e: EndpointRow): string[] {
  const measured = Object.values(e.percentilesMs).some((v) => v !== null);
  return [
    escapeHtml(e.method),
    escapeHtml(e.name),
    String(e.requests),
    `${e.failures} (${percent(e.failures, e.requests)})`,
    e.rps.toFixed(2),
    measured ? formatMs(e.minMs) : "–",
    measured ? formatMs(e.meanMs) : "–",
    ...TABLE_PERCENTILES.map((p) => ms(e.percentilesMs[String(p)])),
    measured ? formatMs(e.maxMs) : "–",
    String(e.bytes),
  ];
}

function endpointsSection(data: ReportData): string {
  if (data.total === null) return "";
  const head = [
    "Type",
    "Name",
    "Requests",
    "Failures",
    "req/s",
    "min",
    "mean",
    ...TABLE_PERCENTILES.map((p) => p === 50 ? "median" : `p${p}`),
    "max",
    "bytes",
  ];
  const rows = [...data.endpoints.map(endpointCells), endpointCells(data.total)];
  rows.at(-1)![1] = "Aggregated";
  const note = data.complete
    ? "Latencies in ms over the whole run, from its HDR histograms (merged exactly across workers)."
    : "The run ended without its final stats: these are the last interval's.";
  return section(
    "endpoints",
    "Requests per endpoint",
    `<p class="note">${note}</p>` + table(head, rows, 2),
  );
}

function failuresSection(data: ReportData): string {
  if (data.failures.length === 0) return "";
  const rows = data.failures.map((f) => [
    String(f.occurrences),
    escapeHtml(f.method),
    escapeHtml(f.name),
    escapeHtml(f.error),
  ]);
  return section("failures", "Failures", table(["Occurrences", "Type", "Name", "Error"], rows, 4));
}

function thresholdsSection(data: ReportData): string {
  if (data.thresholds.length === 0) return "";
  const rows = data.thresholds.map((t) => [
    t.ok ? '<span class="pass">✓ held</span>' : '<span class="fail">✗ crossed</span>',
    escapeHtml(t.metric),
    escapeHtml(t.expression),
    t.value === null ? "no matching requests" : escapeHtml(String(Number(t.value.toPrecision(4)))),
  ]);
  return section(
    "thresholds",
    "Thresholds",
    table(["", "Metric", "Expression", "Observed"], rows, 3),
  );
}

function checksSection(data: ReportData): string {
  if (data.checks.length === 0) return "";
  const rows = data.checks.map((c) => [
    c.fails === 0 ? '<span class="pass">✓</span>' : '<span class="fail">✗</span>',
    escapeHtml(c.name),
    String(c.passes),
    String(c.fails),
    percent(c.passes, c.passes + c.fails),
  ]);
  return section("checks", "Checks", table(["", "Check", "Passes", "Fails", "Passed"], rows, 2));
}

function warningsSection(data: ReportData): string {
  if (data.warnings.length === 0) return "";
  const items = data.warnings.map((w) =>
    `<li><time>${escapeHtml(w.at)}</time> ${escapeHtml(w.text)}</li>`
  );
  return section("warnings", "Warnings", `<ul>${items.join("")}</ul>`);
}

function section(id: string, title: string, body: string): string {
  return `<section id="${id}"><h2>${escapeHtml(title)}</h2>${body}</section>`;
}

function facts(data: ReportData): string {
  const run = data.run;
  const rows: [string, string | null][] = [
    ["Run id", run.runId],
    ["Host", run.host],
    ["Started", run.startedAt ?? run.createdAt],
    ["Ended", run.endedAt],
    ["Duration", run.durationMs === null ? null : formatDuration(run.durationMs)],
    ["Stopped", run.reason],
    ["Users (peak)", run.users === null ? null : String(run.users)],
    ["Spawn rate", run.spawnRate === null ? null : `${run.spawnRate}/s`],
    ["Planned run time", run.runTimeMs === null ? null : formatDuration(run.runTimeMs)],
    ["Load workers", run.workers === null ? null : String(run.workers)],
    ["Stampede", run.version],
    ...data.stages.map((s): [string, string] => [
      `Stage ${s.stage}`,
      `to ${s.users} users over ${formatDuration(s.durationMs)} (from ${s.at})`,
    ]),
  ];
  const dl = rows.filter(([, v]) => v !== null)
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v!)}</dd>`).join("");
  const labels = (title: string, values: Record<string, string>) => {
    const entries = Object.entries(values);
    if (entries.length === 0) return "";
    return `<p class="tags"><span>${title}</span> ${
      entries.map(([k, v]) => `<code>${escapeHtml(k)}=${escapeHtml(v)}</code>`).join(" ")
    }</p>`;
  };
  return section(
    "run",
    "Run",
    `<dl>${dl}</dl>${labels("Tags", run.tags)}${labels("Metadata", run.metadata)}`,
  );
}

/** A line under the title: the totals, and the verdict of the thresholds when there are some. */
function headline(data: ReportData): string {
  const parts: string[] = [];
  if (data.total !== null) {
    parts.push(
      `${data.total.requests} requests`,
      `${percent(data.total.failures, data.total.requests)} failed`,
      `p99 ${ms(data.total.percentilesMs["99"])} ms`,
    );
  }
  if (data.thresholds.length > 0) {
    const crossed = data.thresholds.filter((t) => !t.ok).length;
    parts.push(
      crossed === 0
        ? '<span class="pass">every threshold held</span>'
        : `<span class="fail">${crossed} of ${data.thresholds.length} thresholds crossed</span>`,
    );
  }
  return parts.join(" · ");
}

function figure(chart: string, caption: string): string {
  return `<figure class="chart" data-chart="${chart}"><figcaption>${
    escapeHtml(caption)
  }</figcaption><div class="plot"></div></figure>`;
}

function chartsSection(data: ReportData): string {
  const figures = [
    figure("throughput", "Requests/s and failures/s"),
    figure("users", "Users"),
    figure("latency", "Latency p50, p95, p99 (ms, each interval)"),
  ];
  if (data.timeline.corrected !== null) {
    figures.push(figure("corrected", "Service vs corrected latency (ms, each interval)"));
  }
  const over = section("charts", "Over time", figures.join(""));
  if (data.spectrum === null) return over;
  return over + section(
    "distribution",
    "Latency distribution",
    '<p class="note">The whole run\'s percentile spectrum from its HDR histograms: latency ' +
      "(ms) at each percentile, on a log scale of 1 / (1 − percentile).</p>" +
      figure("spectrum", "Percentile spectrum"),
  );
}

/** The whole report page. */
export function renderReport(data: ReportData, assets: ReportAssets): string {
  const title = `${data.run.testplan}: Stampede report`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="generator" content="Stampede ${escapeHtml(data.run.version)}">
<title>${escapeHtml(title)}</title>
<style>${assets.chartStyle}</style>
<style>${assets.pageStyle}</style>
</head>
<body>
<header><h1>${escapeHtml(data.run.testplan)}</h1><p class="headline">${headline(data)}</p></header>
<main>
${thresholdsSection(data)}
${facts(data)}
${chartsSection(data)}
${endpointsSection(data)}
${failuresSection(data)}
${checksSection(data)}
${warningsSection(data)}
</main>
<footer>Written by Stampede ${
    escapeHtml(data.run.version)
  }; charts by uPlot (MIT License), inlined: this file needs no network.</footer>
<script id="report-data" type="application/json">${scriptJson(data)}</script>
<script>${inlineScript(assets.chartScript, "the chart library")}</script>
<script>${inlineScript(assets.pageScript, "the page script")}</script>
</body>
</html>
`;
}
