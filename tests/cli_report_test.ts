// --report PATH: a real run against a counting server writes one HTML file, opened in headless
// Chromium with networking off: every chart's canvas holds pixels of its series' colours, the page
// logs no error and requests nothing but its own file, and the tables hold the run's numbers.
// STAMPEDE_REPORT_SCREENSHOT=docs/report-screenshot.png keeps the screenshot.
import assert from "node:assert/strict";
import { endpointStats } from "../core/stats/test_fixtures.ts";
import { chromiumPath, openInChromium } from "./chromium_helpers.ts";
import { argv, ROOT, runCliWithSummary, startCountingServer, tempDir } from "./helpers.ts";
import { createRunInfo } from "../core/run_info.ts";
import { createHistogram } from "../core/stats/histogram.ts";
import type { EndpointStats, StatsView } from "../core/stats/types.ts";
import { loadReportAssets } from "../recorders/report/assets.ts";
import { ReportCollector } from "../recorders/report/collect.ts";
import { renderReport } from "../recorders/report/template.ts";

const PLAN = `${ROOT}tests/plans/counting.plan.ts`;

/** What the page's charts hold: per chart, the canvas size and the pixels of each series colour. */
interface ChartPixels {
  chart: string;
  width: number;
  height: number;
  /** Pixels drawn at all (not transparent). */
  painted: number;
  /** Pixels of each series' stroke colour (within a small tolerance for anti-aliasing). */
  seriesPixels: number[];
}

/** Runs in the page: reads every chart's canvas back, pixel by pixel. */
const READ_CHARTS = `(() => {
  const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return [...document.querySelectorAll("[data-chart]")].map((figure) => {
    const canvas = figure.querySelector("canvas");
    const strokes = JSON.parse(figure.dataset.strokes ?? "[]").map(rgb);
    if (!canvas) return { chart: figure.dataset.chart, width: 0, height: 0, painted: 0, seriesPixels: [] };
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    const seriesPixels = strokes.map(() => 0);
    let painted = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      if (pixels[i + 3] === 0) continue;
      painted++;
      strokes.forEach(([r, g, b], s) => {
        if (pixels[i + 3] > 200 && Math.abs(pixels[i] - r) < 24 && Math.abs(pixels[i + 1] - g) < 24 &&
            Math.abs(pixels[i + 2] - b) < 24) seriesPixels[s]++;
      });
    }
    return { chart: figure.dataset.chart, width: canvas.width, height: canvas.height, painted, seriesPixels };
  });
})()`;

/** Runs in the page: the endpoint table's rows as text. */
const READ_TABLE = `[...document.querySelectorAll("#endpoints tbody tr")]
  .map((tr) => [...tr.cells].map((td) => td.textContent))`;

/** Waits until every chart's canvas has been painted (uPlot draws on an animation frame). */
async function readCharts(page: { evaluate<T>(e: string): Promise<T> }): Promise<ChartPixels[]> {
  let charts: ChartPixels[] = [];
  const deadline = Date.now() + 10_000;
  do {
    await new Promise((resolve) => setTimeout(resolve, 200));
    charts = await page.evaluate<ChartPixels[]>(READ_CHARTS);
  } while (charts.some((c) => c.painted === 0) && Date.now() < deadline);
  return charts;
}

Deno.test({
  name: "--report: the HTML report opens offline in Chromium, every chart drawn, no console error",
  sanitizeResources: false, // Chromium's stderr is drained until it exits
  fn: async () => {
    assert.ok(chromiumPath(), "Chromium is not installed: apt-get install -y chromium (Debian)");
    const server = startCountingServer((_req, url) =>
      url.pathname === "/b" && Math.random() < 0.3
        ? new Response("no", { status: 503 })
        : new Response("ok")
    );
    const dir = await tempDir();
    try {
      const report = `${dir.path}/report.html`;
      const result = await runCliWithSummary(
        argv`${PLAN} --host ${server.url} --workers 2 --run-time 4s --stats-interval 500ms --report ${report} --tag team=checkout --exit-code-on-error 0`,
        { timeoutMs: 30_000 },
      );
      assert.equal(result.code, 0, result.stderr);
      const html = await Deno.readTextFile(report);
      assert.match(html, /^<!doctype html>/);
      assert.ok(html.trimEnd().endsWith("</html>"), "the file is whole");
      assert.doesNotMatch(
        html,
        /<script[^>]+src=|<link[^>]+href=/i,
        "nothing loaded from elsewhere",
      );

      const page = await openInChromium(new URL(`file://${report}`).href, { timeoutMs: 20_000 });
      try {
        const charts = await readCharts(page);
        assert.deepEqual(charts.map((c) => c.chart), [
          "throughput",
          "users",
          "latency",
          "spectrum",
        ]);
        for (const c of charts) {
          assert.ok(c.width >= 300 && c.height >= 200, `${c.chart}: canvas ${c.width}x${c.height}`);
          const drawn = c.seriesPixels.reduce((a, b) => a + b, 0);
          // Axes and grid are grey; only drawn data has the series' colours.
          assert.ok(drawn >= 100, `${c.chart}: ${drawn} pixels of its series (${c.seriesPixels})`);
        }
        const byName = Object.fromEntries(charts.map((c) => [c.chart, c.seriesPixels]));
        assert.ok(byName.throughput[0] >= 100, `requests/s line: ${byName.throughput}`);
        assert.ok(byName.throughput[1] >= 100, `failures/s line: ${byName.throughput}`);
        assert.ok(byName.users[0] >= 100, `users line: ${byName.users}`);
        assert.ok(byName.spectrum.length >= 2, "the total and its endpoints");

        const rows = await page.evaluate<string[][]>(READ_TABLE);
        const aggregated = rows.at(-1)!;
        assert.equal(aggregated[1], "Aggregated");
        assert.equal(Number(aggregated[2]), result.summary.totals.requests);
        assert.equal(rows.length, result.summary.endpoints.length + 1);
        const text = await page.evaluate<string>("document.body.innerText");
        assert.match(text, /team=checkout/);
        assert.match(text, /HTTP 503/);
        assert.doesNotMatch(text, /Thresholds/, "no thresholds section without thresholds");

        assert.deepEqual(page.log.errors, [], "console errors");
        assert.deepEqual(page.log.requests, [new URL(`file://${report}`).href], "requests");

        const keep = Deno.env.get("STAMPEDE_REPORT_SCREENSHOT");
        const png = await page.screenshot();
        assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], "a PNG"); // "PNG"
        if (keep) await Deno.writeFile(keep, png);
      } finally {
        await page.close();
      }
    } finally {
      await server.shutdown();
      await dir.remove();
    }
  },
});

Deno.test({
  name: "the hooks' data (thresholds, checks, corrected latency) renders and draws in Chromium too",
  sanitizeResources: false,
  fn: async () => {
    assert.ok(chromiumPath(), "Chromium is not installed: apt-get install -y chromium (Debian)");
    const collector = new ReportCollector(createRunInfo({ testplan: "hooks", host: "http://h" }));
    const total = (requests: number): EndpointStats =>
      endpointStats({ requests, minMs: 1, maxMs: 400, meanMs: 10 });
    for (let i = 1; i <= 10; i++) {
      const service = createHistogram();
      const corrected = createHistogram();
      for (let ms = 1; ms <= 100; ms++) {
        service.recordValue(ms * 1000);
        corrected.recordValue((ms + 10 * i) * 1000 * 3);
      }
      const view: StatsView = { durationMs: 1000 * i, total: total(100 * i), endpoints: [] };
      collector.interval({
        at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
        elapsedMs: 1000 * i,
        runTimeMs: 10_000,
        users: i,
        usersByKind: {},
        workers: 1,
        window: view,
        cumulative: view,
        cells: [{
          method: "GET",
          name: "/a",
          status: 200,
          failed: false,
          requests: 100,
          bytes: 0,
          histogram: service,
          sumUs: 0,
          correctedHistogram: corrected,
        } as never],
        failures: [],
        checks: [],
        iterations: [],
        targetRates: {},
      });
    }
    const data = collector.data();
    data.thresholds = [
      { metric: "http.duration", expression: "p(95)<50", value: 95.1, limit: 50, ok: false },
    ];
    data.checks = [{ name: "status is 200", passes: 999, fails: 1 }];
    const dir = await tempDir();
    try {
      const path = `${dir.path}/hooks.html`;
      await Deno.writeTextFile(path, renderReport(data, await loadReportAssets()));
      const page = await openInChromium(new URL(`file://${path}`).href, { timeoutMs: 20_000 });
      try {
        const charts = await readCharts(page);
        assert.deepEqual(charts.map((c) => c.chart), [
          "throughput",
          "users",
          "latency",
          "corrected",
        ]);
        const corrected = charts.find((c) => c.chart === "corrected")!;
        assert.equal(corrected.seriesPixels.length, 4);
        assert.ok(corrected.seriesPixels.every((n) => n >= 100), `${corrected.seriesPixels}`);
        const text = await page.evaluate<string>("document.body.innerText");
        assert.match(text, /1 of 1 thresholds crossed/);
        assert.match(text, /✗ crossed\s+http\.duration\s+p\(95\)<50\s+95\.1/);
        assert.match(text, /status is 200\s+999\s+1\s+99\.90%/);
        assert.match(text, /the last interval's/, "the tables say they are not final");
        assert.deepEqual(page.log.errors, [], "console errors");
      } finally {
        await page.close();
      }
    } finally {
      await dir.remove();
    }
  },
});
