// The charting library inlined into every report: uPlot (MIT, ~50 KB minified, no dependencies),
// pinned in deno.json. Its script and stylesheet are read from the npm package when a report is
// written, so the file carries them and opens offline; the page script and stylesheet of the
// report itself sit beside this file.

/** The text of everything a report page needs besides its data. */
export interface ReportAssets {
  /** uPlot's IIFE build: defines the global `uPlot`. */
  chartScript: string;
  chartStyle: string;
  /** Draws the charts from the page's JSON data (./page.js). */
  pageScript: string;
  pageStyle: string;
}

let loaded: Promise<ReportAssets> | null = null;

/** Reads the assets once per process (from Deno's npm cache and this folder). */
export function loadReportAssets(): Promise<ReportAssets> {
  loaded ??= read().catch((error) => {
    loaded = null; // a later report tries again
    throw error;
  });
  return loaded;
}

async function read(): Promise<ReportAssets> {
  const [chartScript, chartStyle, pageScript, pageStyle] = await Promise.all([
    import("npm:uplot@1.6.32/dist/uPlot.iife.min.js", { with: { type: "text" } }),
    import("npm:uplot@1.6.32/dist/uPlot.min.css", { with: { type: "text" } }),
    import("./page.js", { with: { type: "text" } }),
    import("./page.css", { with: { type: "text" } }),
  ]);
  return {
    chartScript: chartScript.default,
    chartStyle: chartStyle.default,
    pageScript: pageScript.default,
    pageStyle: pageStyle.default,
  };
}
