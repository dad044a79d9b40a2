// The shipped Grafana dashboards against real data: every metric their PromQL names is in a real
// scrape and every expression answers in a real Prometheus; their LogQL parses with Grafana's
// grammar (no Loki binary here) and every field it reads is in real JSON records; the files are
// what examples/grafana/dashboards.ts builds; every datasource they use is provisioned.
import assert from "node:assert/strict";
import { parser as logqlParser } from "@grafana/lezer-logql";
import { DASHBOARD_FILES, dashboardText } from "../examples/grafana/dashboards.ts";
import { argv, ROOT, runCli, tempDir } from "./helpers.ts";
import {
  freePort,
  requireBinary,
  sampleNames,
  scrapeUntil,
  SHOP_PLAN,
  startPrometheus,
  startShopServer,
} from "./prometheus_helpers.ts";

const GRAFANA = `${ROOT}examples/grafana/`;

interface Dashboard {
  panels: {
    title: string;
    type: string;
    targets?: { expr: string }[];
    transformations?: { id: string; options: { includeByName?: Record<string, boolean> } }[];
  }[];
  templating: {
    list: {
      name: string;
      type: string;
      /** A datasource type, a PromQL query, or a Loki label-values query object. */
      query: string | { query?: string; stream?: string; label?: string };
      current?: { value: unknown };
    }[];
  };
}

async function readDashboard(file: string): Promise<Dashboard> {
  return JSON.parse(await Deno.readTextFile(`${GRAFANA}dashboards/${file}`));
}

/** Every query of a dashboard: panel targets, then query variables, with where each is from. */
function queries(dashboard: Dashboard): { where: string; expr: string }[] {
  const list: { where: string; expr: string }[] = [];
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) list.push({ where: panel.title, expr: target.expr });
  }
  for (const v of dashboard.templating.list) {
    if (v.type !== "query") continue;
    const q = v.query;
    list.push({
      where: `variable ${v.name}`,
      expr: typeof q === "string" ? q : q.query ?? `label_values(${q.stream}, ${q.label})`,
    });
  }
  return list;
}

const PROMQL_KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
  "inf",
  "nan",
]);

/**
 * Metric names a PromQL expression selects: identifiers outside strings, label matchers, range
 * brackets and grouping clauses that are not functions, keywords or parts of numbers.
 */
function promqlMetricNames(expr: string): string[] {
  const text = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = new Set<string>();
  for (const m of text.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = text.slice(m.index + m[0].length);
    if (/^\s*\(/.test(after)) continue;
    if (m.index > 0 && /[0-9.]/.test(text[m.index - 1])) continue;
    if (PROMQL_KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** Grafana's variables replaced by values Prometheus takes (a rate interval of 5 scrapes). */
function substitute(expr: string): string {
  return expr.replaceAll("$__rate_interval", "5s").replaceAll("$__range", "5m")
    .replaceAll("$__interval", "2s").replace(/\$(testplan|run_id|name)\b/g, ".*");
}

Deno.test("the PromQL metric-name reader finds metrics and nothing else", () => {
  assert.deepEqual(
    promqlMetricNames(
      'histogram_quantile(0.95, sum by (le) (rate(x_bucket{a=~"$b", c="d e"}[$__rate_interval]))) / on (le) group_left(z) y * 1e3 + 2 > bool 0',
    ),
    ["x_bucket", "y"],
  );
  assert.deepEqual(
    promqlMetricNames('label_values(stampede_run_info{testplan=~"$testplan"}, run_id)'),
    ["stampede_run_info", "run_id"],
  );
});

/** Where Grafana's own LogQL grammar finds a syntax error in `expr`, or null. */
function logqlError(expr: string): number | null {
  let at: number | null = null;
  logqlParser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError && at === null) at = node.from;
    },
  });
  return at;
}

Deno.test("every LogQL expression of the Loki dashboard parses with Grafana's LogQL grammar", async () => {
  assert.equal(
    logqlError('sum by (a) (rate({job="x"} | json | unwrap b | __error__="" [1m]))'),
    null,
  );
  assert.notEqual(logqlError('rate({job="x"} | json | unwrap [1m])'), null);
  const dashboard = await readDashboard("stampede_loki.json");
  for (const { where, expr } of queries(dashboard)) {
    if (expr.startsWith("label_values(")) continue;
    const logql = substitute(expr);
    const at = logqlError(logql);
    assert.equal(at, null, `"${where}": LogQL syntax error at ${at}: ${logql}`);
  }
});

Deno.test("the dashboard files are what examples/grafana/dashboards.ts builds", async () => {
  for (const [file, build] of Object.entries(DASHBOARD_FILES)) {
    const text = await Deno.readTextFile(`${GRAFANA}dashboards/${file}`);
    assert.equal(
      text,
      dashboardText(build),
      `${file} differs: run deno run -A examples/grafana/dashboards.ts`,
    );
  }
});

Deno.test("every datasource the dashboards use is provisioned, and the Prometheus config is valid", async () => {
  const provisioned = await Deno.readTextFile(`${GRAFANA}provisioning/datasources/stampede.yaml`);
  const sources = [...provisioned.matchAll(/uid: (\S+)\n\s+type: (\S+)/g)].map((m) => ({
    uid: m[1],
    type: m[2],
  }));
  for (const file of Object.keys(DASHBOARD_FILES)) {
    const dashboard = await readDashboard(file);
    const variable = dashboard.templating.list.find((v) => v.type === "datasource")!;
    assert.ok(
      sources.some((s) => s.type === variable.query && s.uid === variable.current?.value),
      `${file} uses a ${variable.query} datasource "${variable.current?.value}" that is not provisioned`,
    );
  }
  const promtool = await requireBinary("promtool");
  const check = await new Deno.Command(promtool, {
    args: ["check", "config", `${GRAFANA}prometheus/prometheus.yml`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  assert.equal(check.code, 0, decoder.decode(check.stdout) + decoder.decode(check.stderr));
  const config = await Deno.readTextFile(`${GRAFANA}prometheus/prometheus.yml`);
  assert.match(config, /scrape_interval: 2s/);
  assert.match(config, /targets: \["host\.docker\.internal:9646"\]/);
  const compose = await Deno.readTextFile(`${GRAFANA}compose.yaml`);
  for (const service of ["prometheus", "loki", "alloy", "grafana"]) {
    assert.match(compose, new RegExp(`^  ${service}:$`, "m"), `compose has no ${service}`);
  }
});

Deno.test("the dashboards' queries find their metrics in a real scrape, in Prometheus and in JSON records", async (t) => {
  const server = startShopServer();
  const dir = await tempDir();
  const metricsPort = freePort();
  const prometheus = await startPrometheus(`127.0.0.1:${metricsPort}`, 1);
  try {
    const jsonFile = `${dir.path}/records.jsonl`;
    const cli = runCli(
      argv`${SHOP_PLAN} --host ${server.url} --exit-code-on-error 0 --run-time 3s --workers 2 --recorder prometheus,json --json-file ${jsonFile} --prometheus-listen 127.0.0.1:${metricsPort}`,
    );
    const final = await scrapeUntil(`http://127.0.0.1:${metricsPort}/metrics`, cli);
    const result = await cli;
    assert.equal(result.code, 0, result.stderr);
    assert.ok(final, "no scrape saw the final numbers");
    const scraped = sampleNames(final.text);

    await t.step("Prometheus dashboard: each metric it names is in the scrape", async () => {
      const dashboard = await readDashboard("stampede_prometheus.json");
      let checked = 0;
      for (const { where, expr } of queries(dashboard)) {
        const selector = /^label_values\((.*), *(\w+)\)$/.exec(expr);
        for (const name of promqlMetricNames(selector ? selector[1] : expr)) {
          assert.ok(
            scraped.has(name),
            `"${where}" uses ${name}, which a real scrape does not have`,
          );
          checked++;
        }
      }
      assert.ok(checked >= 30, `only ${checked} metric uses found`);
    });

    await t.step(
      "Prometheus dashboard: each expression answers with data in Prometheus",
      async () => {
        const dashboard = await readDashboard("stampede_prometheus.json");
        const atS = final.atMs / 1000;
        for (const { where, expr } of queries(dashboard)) {
          const selector = /^label_values\((.*), *(\w+)\)$/.exec(expr);
          const promql = substitute(selector ? selector[1] : expr);
          const answer = await prometheus.queryRaw(promql, atS) as {
            status: string;
            error?: string;
            data?: { result: unknown[] };
          };
          assert.equal(answer.status, "success", `"${where}": ${promql}: ${answer.error}`);
          assert.ok((answer.data?.result.length ?? 0) > 0, `"${where}" has no data: ${promql}`);
        }
      },
    );

    await t.step(
      "Loki dashboard: each record, field and label it reads is in real JSON records",
      async () => {
        const records = (await Deno.readTextFile(jsonFile)).trim().split("\n").map((line) =>
          JSON.parse(line) as Record<string, unknown>
        );
        const alloy = await Deno.readTextFile(`${GRAFANA}alloy/config.alloy`);
        const dashboard = await readDashboard("stampede_loki.json");
        let checked = 0;
        for (const { where, expr } of queries(dashboard)) {
          for (const m of expr.matchAll(/\{([^}]*)\}/g)) {
            for (const label of m[1].matchAll(/(\w+)\s*=~?"/g)) {
              if (label[1] === "job") continue;
              assert.match(
                alloy,
                new RegExp(`^\\s+${label[1]}\\s+= "",$`, "m"),
                `"${where}": label ${label[1]} is not set by the shipper`,
              );
            }
          }
          const name = /telemetry_name="([^"]+)"/.exec(expr)?.[1];
          const statsType = /stats_type="(\w+)"/.exec(expr)?.[1];
          const matching = records.filter((r) =>
            (name === undefined || r.telemetry_name === name) &&
            (statsType === undefined || r.stats_type === statsType)
          );
          assert.ok(matching.length > 0, `"${where}": no record with ${name} ${statsType ?? ""}`);
          for (const [, field] of expr.matchAll(/unwrap (\w+)/g)) {
            assert.ok(
              matching.some((r) => typeof r[field] === "number"),
              `"${where}": no ${name} record has a number in ${field}`,
            );
            checked++;
          }
        }
        assert.ok(checked >= 10, `only ${checked} unwrapped fields found`);
        const table = dashboard.panels.find((p) => p.title.startsWith("Endpoints"))!;
        const organize = table.transformations?.find((x) => x.id === "organize");
        assert.ok(organize?.options.includeByName, "the endpoints table picks its fields");
        const included = Object.keys(organize.options.includeByName);
        const endpoint = records.find((r) => r.stats_type === "endpoint")!;
        for (const field of included) {
          assert.ok(field in endpoint, `the endpoints table shows ${field}, which records lack`);
        }
      },
    );
  } finally {
    await prometheus.stop();
    await server.shutdown();
    await dir.remove();
  }
});
