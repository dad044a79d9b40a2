// The report page's script (runs in the browser, inlined by template.ts after uPlot): draws each
// `[data-chart]` figure with uPlot from the JSON in `#report-data`. Each figure gets the stroke
// colours of its series in `data-strokes`, so a check can look for them in the canvas.
(() => {
  "use strict";
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const timeline = data.timeline;
  const HEIGHT = 260;
  const COLORS = {
    requests: "#2563eb",
    failures: "#dc2626",
    users: "#7c3aed",
    p50: "#16a34a",
    p95: "#d97706",
    p99: "#dc2626",
    corrected: "#0891b2",
  };
  const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777"];

  /** Latency in ms with precision that fits its size (as the console prints it). */
  function formatMs(ms) {
    if (ms === null || ms === undefined) return "–";
    if (ms === 0) return "0";
    if (ms < 10) return ms.toFixed(2);
    if (ms < 100) return ms.toFixed(1);
    return ms.toFixed(0);
  }

  /** The percentile of a spectrum x value, 1 / (1 - p): 10 → "90%", 1000 → "99.9%". */
  function percentileLabel(x) {
    return `${Number((100 * (1 - 1 / x)).toFixed(5))}%`;
  }

  function line(label, stroke, format, dash) {
    return {
      label,
      stroke,
      width: 2,
      dash,
      spanGaps: false,
      value: (_u, v) => (v === null || v === undefined ? "–" : format(v)),
    };
  }

  const perSecond = (v) => v.toFixed(1);
  const count = (v) => String(Math.round(v));
  const msValue = (v) => `${formatMs(v)} ms`;

  const builders = {
    throughput: () => ({
      series: [
        line("requests/s", COLORS.requests, perSecond),
        line("failures/s", COLORS.failures, perSecond),
      ],
      columns: [timeline.t, timeline.rps, timeline.failuresPerSec],
      yLabel: "per second",
    }),
    users: () => ({
      series: [line("users", COLORS.users, count)],
      columns: [timeline.t, timeline.users],
      yLabel: "users",
    }),
    latency: () => ({
      series: [
        line("p50", COLORS.p50, msValue),
        line("p95", COLORS.p95, msValue),
        line("p99", COLORS.p99, msValue),
      ],
      columns: [timeline.t, timeline.service.p50Ms, timeline.service.p95Ms, timeline.service.p99Ms],
      yLabel: "ms",
    }),
    corrected: () => ({
      series: [
        line("service p50", COLORS.p50, msValue),
        line("service p99", COLORS.p99, msValue),
        line("corrected p50", COLORS.corrected, msValue, [6, 4]),
        line("corrected p99", COLORS.users, msValue, [6, 4]),
      ],
      columns: [
        timeline.t,
        timeline.service.p50Ms,
        timeline.service.p99Ms,
        timeline.corrected.p50Ms,
        timeline.corrected.p99Ms,
      ],
      yLabel: "ms",
    }),
    spectrum: () => ({
      series: data.spectrum.series.map((s, i) =>
        line(s.label, PALETTE[i % PALETTE.length], msValue)
      ),
      columns: [data.spectrum.x, ...data.spectrum.series.map((s) => s.valuesMs)],
      yLabel: "ms",
      x: {
        scale: { time: false, distr: 3, log: 10 },
        axis: {
          // Ticks at 0 %, 90 %, 99 %, 99.9 %, ...: the powers of ten of 1 / (1 - p).
          splits: (_u, _axis, min, max) => {
            const ticks = [];
            for (let x = 1; x <= max * 1.0001; x *= 10) if (x >= min / 1.0001) ticks.push(x);
            return ticks;
          },
          values: (_u, splits) => splits.map(percentileLabel),
        },
        label: "percentile",
        format: percentileLabel,
      },
    }),
  };

  function draw(figure) {
    const build = builders[figure.dataset.chart];
    const plot = figure.querySelector(".plot");
    if (!build || !plot) return null;
    const spec = build();
    if (spec.columns[0].length === 0) {
      plot.textContent = "No data: the run ended before its first stats interval.";
      return null;
    }
    const x = spec.x;
    const options = {
      width: Math.max(300, plot.clientWidth),
      height: HEIGHT,
      series: [
        x ? { label: x.label, value: (_u, v) => (v === null ? "–" : x.format(v)) } : {},
        ...spec.series,
      ],
      scales: { x: x ? x.scale : { time: true } },
      axes: [
        x ? x.axis : {},
        { label: spec.yLabel, size: 60 },
      ],
    };
    figure.dataset.strokes = JSON.stringify(spec.series.map((s) => s.stroke));
    return { plot, chart: new uPlot(options, spec.columns, plot) };
  }

  const charts = [];
  for (const figure of document.querySelectorAll("[data-chart]")) {
    const drawn = draw(figure);
    if (drawn) charts.push(drawn);
  }
  globalThis.addEventListener("resize", () => {
    for (const { plot, chart } of charts) {
      chart.setSize({ width: Math.max(300, plot.clientWidth), height: HEIGHT });
    }
  });
})();
