// The Grafana dashboards as code: this module writes both dashboard JSON files.
//   deno run -A examples/grafana/dashboards.ts     rewrites examples/grafana/dashboards/*.json
// panels.ts holds the frame they share, prometheus_dashboard.ts (with prometheus_load_panels.ts
// and prometheus_queries.ts) and loki_dashboard.ts their panels.
// tests/cli_grafana_dashboards_test.ts checks the files are what this builds, that every metric the
// PromQL uses is in a real scrape, and that every field the LogQL reads is in real JSON records.
import { lokiDashboard } from "./loki_dashboard.ts";
import type { Json } from "./panels.ts";
import { prometheusDashboard } from "./prometheus_dashboard.ts";

/** Where the dashboard files live, by file name. */
export const DASHBOARD_FILES: Record<string, () => Json> = {
  "stampede_prometheus.json": prometheusDashboard,
  "stampede_loki.json": lokiDashboard,
};

/** The text of a dashboard file: its JSON, two-space indented, ending with a line feed. */
export function dashboardText(build: () => Json): string {
  return JSON.stringify(build(), null, 2) + "\n";
}

if (import.meta.main) {
  const dir = new URL("./dashboards/", import.meta.url);
  await Deno.mkdir(dir, { recursive: true });
  for (const [file, build] of Object.entries(DASHBOARD_FILES)) {
    await Deno.writeTextFile(new URL(file, dir), dashboardText(build));
    console.log(`wrote examples/grafana/dashboards/${file}`);
  }
}
