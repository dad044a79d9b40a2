// --report PATH: a real run against a counting server writes one HTML file, opened in headless
// Chromium with networking off: every chart's canvas holds pixels of its series' colours, the page
// logs no error and requests nothing but its own file, and the tables hold the run's numbers.
// STAMPEDE_REPORT_SCREENSHOT=docs/report-screenshot.png keeps the screenshot.
import assert from "node:assert/strict";
import { chromiumPath, openInChromium } from "./chromium_helpers.ts";
import { argv, ROOT, runCliWithSummary, startCountingServer, tempDir } from "./helpers.ts";

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
        argv`${PLAN} --host ${server.url} --workers 2 --run-time 4s --stats-interval 500ms --report ${report} --tag team=checkout`,
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
        // uPlot draws on the next animation frame: wait until every canvas has been painted.
        let charts: ChartPixels[] = [];
        const deadline = Date.now() + 10_000;
        do {
          await new Promise((resolve) => setTimeout(resolve, 200));
          charts = await page.evaluate<ChartPixels[]>(READ_CHARTS);
        } while (charts.some((c) => c.painted === 0) && Date.now() < deadline);

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
