// The frame every Grafana dashboard here shares: panel specs, their layout, variables, datasources.

/** A JSON object as Grafana stores it. */
export type Json = Record<string, unknown>;

/** The Prometheus datasource the dashboard's `datasource` variable picks. */
export const PROMETHEUS = { type: "prometheus", uid: "${datasource}" };
/** The Loki datasource the dashboard's `datasource` variable picks. */
export const LOKI = { type: "loki", uid: "${datasource}" };

/** One query of a panel. */
export interface Target {
  expr: string;
  legend?: string;
  /** An instant query in table format (for table panels). */
  table?: boolean;
  /** Asks for exemplars too (Prometheus, with `--traces`): dots that open the request's trace. */
  exemplar?: boolean;
}

/** A panel before layout: what it shows and its size, without id or position. */
export interface PanelSpec {
  title: string;
  type: "timeseries" | "stat" | "table" | "logs";
  unit?: string;
  targets: Target[];
  /** Width in grid units (24 = full), height in rows. */
  w: number;
  h: number;
  description?: string;
  options?: Json;
  transformations?: Json[];
  fieldConfig?: Json;
}

/**
 * Lays panels out left to right, wrapping at 24 columns, and gives them ids; a string starts a
 * row of that title.
 */
export function layout(datasource: Json, rows: (PanelSpec | string)[]): Json[] {
  const panels: Json[] = [];
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  let id = 1;
  for (const spec of rows) {
    if (typeof spec === "string") {
      y += rowHeight;
      x = 0;
      rowHeight = 0;
      panels.push({
        id: id++,
        type: "row",
        title: spec,
        collapsed: false,
        gridPos: { x: 0, y, w: 24, h: 1 },
        panels: [],
      });
      y += 1;
      continue;
    }
    if (x + spec.w > 24) {
      y += rowHeight;
      x = 0;
      rowHeight = 0;
    }
    panels.push({
      id: id++,
      type: spec.type,
      title: spec.title,
      ...(spec.description ? { description: spec.description } : {}),
      datasource,
      gridPos: { x, y, w: spec.w, h: spec.h },
      targets: spec.targets.map((t, i) => ({
        datasource,
        refId: String.fromCharCode(65 + i),
        expr: t.expr,
        ...(t.legend ? { legendFormat: t.legend } : {}),
        ...(t.table ? { instant: true, range: false, format: "table" } : {}),
        ...(t.exemplar ? { exemplar: true } : {}),
        ...(datasource === LOKI ? { queryType: "range" } : {}),
      })),
      fieldConfig: spec.fieldConfig ??
        { defaults: spec.unit ? { unit: spec.unit } : {}, overrides: [] },
      options: spec.options ?? {},
      ...(spec.transformations ? { transformations: spec.transformations } : {}),
    });
    x += spec.w;
    rowHeight = Math.max(rowHeight, spec.h);
  }
  return panels;
}

/** The `datasource` variable: picks a datasource of `type`, the provisioned `uid` by default. */
export function datasourceVariable(
  type: "prometheus" | "loki",
  label: string,
  uid: string,
): Json {
  return {
    name: "datasource",
    label,
    type: "datasource",
    query: type,
    current: { text: label, value: uid },
    hide: 0,
    refresh: 1,
  };
}

/** A multi-value variable filled by `query`, all values selected by default. */
export function queryVariable(
  name: string,
  label: string,
  datasource: Json,
  query: Json | string,
): Json {
  return {
    name,
    label,
    type: "query",
    datasource,
    query,
    definition: typeof query === "string" ? query : query.query,
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: ".*",
    current: { text: ["All"], value: ["$__all"] },
    sort: 1,
  };
}

/** A whole dashboard around laid-out `panels` and `variables`: tags, refresh, time range. */
export function dashboard(
  uid: string,
  title: string,
  description: string,
  panels: Json[],
  variables: Json[],
): Json {
  return {
    uid,
    title,
    description,
    tags: ["stampede", "load-test"],
    editable: true,
    graphTooltip: 1,
    refresh: "5s",
    schemaVersion: 39,
    time: { from: "now-15m", to: "now" },
    timepicker: {},
    templating: { list: variables },
    annotations: { list: [] },
    links: [],
    panels,
  };
}

/** A small stat panel (4 × 4) showing the last value of `expr`, with a sparkline. */
export const stat = (
  title: string,
  expr: string,
  unit?: string,
  description?: string,
): PanelSpec => ({
  title,
  type: "stat",
  unit,
  description,
  w: 4,
  h: 4,
  targets: [{ expr }],
  options: {
    reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
    graphMode: "area",
  },
});

/** The load generators' memory (8 × 8): each process's resident memory and each thread's heap. */
export const memoryPanel = (residentExpr: string, heapExpr: string): PanelSpec => ({
  title: "Memory",
  type: "timeseries",
  unit: "bytes",
  w: 8,
  h: 8,
  targets: [
    { expr: residentExpr, legend: "resident (process)" },
    { expr: heapExpr, legend: "{{source}} heap" },
  ],
});
