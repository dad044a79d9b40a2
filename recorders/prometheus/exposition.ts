// The Prometheus text exposition format (version 0.0.4) and OpenMetrics 1.0 (for scrapers that
// ask for it: it carries exemplars), written by hand.
//
// Why not prom-client: its Histogram only takes one observe() per value, and the recorder gets
// pre-aggregated bucket counts and an exact sum per interval from the HDR histograms. Feeding
// those through observe() would mean one call per request (or per distinct value) and would
// lose the exact sum; writing the text ourselves takes the numbers as they are.

/** The content type Prometheus expects for the text format. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The content type of OpenMetrics 1.0. */
export const OPENMETRICS_CONTENT_TYPE =
  "application/openmetrics-text; version=1.0.0; charset=utf-8";

/** The two formats served: Prometheus text 0.0.4, or OpenMetrics 1.0 with exemplars. */
export type ExpositionFormat = "text" | "openmetrics";

/** A sampled request shown beside a histogram bucket (OpenMetrics only). */
export interface BucketExemplar {
  traceId: string;
  spanId: string;
  /** The request's duration, in the histogram's unit. */
  value: number;
  /** When it ended, in Unix ms. */
  timeMs: number;
}

/**
 * The format an `Accept` header asks for: OpenMetrics when it accepts
 * `application/openmetrics-text` at least as much as the text format, else text.
 */
export function negotiateFormat(accept: string | null): ExpositionFormat {
  let openMetricsQ = -1;
  let textQ = -1;
  for (const range of (accept ?? "").split(",")) {
    const [type, ...params] = range.split(";").map((p) => p.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith("q="));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!(q > 0)) continue;
    if (type === "application/openmetrics-text") openMetricsQ = Math.max(openMetricsQ, q);
    else if (type === "text/plain" || type === "*/*" || type === "text/*") {
      textQ = Math.max(textQ, q);
    }
  }
  return openMetricsQ >= 0 && openMetricsQ >= textQ ? "openmetrics" : "text";
}

/** Metric types of the text format. */
export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

/** Label names and values of one sample, in the order they are written. */
export type Labels = Record<string, string>;

/** A sample value as Prometheus writes it: `+Inf`, `-Inf`, `NaN` or a decimal number. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : `\\${c}`);
}

function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => c === "\n" ? "\\n" : "\\\\");
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Turns any key into a valid label name: characters outside `[a-zA-Z0-9_]` become `_`, a
 * leading digit gets a `_` before it, and the reserved `__` prefix is cut to one `_`.
 */
export function toLabelName(key: string): string {
  let name = key.replace(/[^a-zA-Z0-9_]/g, "_");
  if (name === "" || /^[0-9]/.test(name)) name = `_${name}`;
  if (name.startsWith("__")) name = name.replace(/^_+/, "_");
  return name;
}

/**
 * Builds one exposition text: families in the order they are opened, each with HELP and TYPE,
 * every sample carrying the `constLabels` first.
 */
export class ExpositionWriter {
  readonly #lines: string[] = [];
  readonly #constLabels: string;
  readonly format: ExpositionFormat;

  constructor(constLabels: Labels = {}, format: ExpositionFormat = "text") {
    this.format = format;
    this.#constLabels = Object.entries(constLabels).map(([k, v]) => this.#label(k, v)).join(",");
  }

  #label(name: string, value: string): string {
    if (!LABEL_NAME.test(name)) throw new Error(`invalid label name "${name}"`);
    return `${name}="${escapeLabelValue(value)}"`;
  }

  /**
   * Opens a family: its HELP and TYPE lines. In OpenMetrics a counter family is named without
   * the `_total` its samples carry.
   */
  family(name: string, type: MetricType, help: string): this {
    const family = this.format === "openmetrics" && type === "counter"
      ? name.replace(/_total$/, "")
      : name;
    const shown = this.format === "openmetrics" && type === "untyped" ? "unknown" : type;
    this.#lines.push(`# HELP ${family} ${escapeHelp(help)}`, `# TYPE ${family} ${shown}`);
    return this;
  }

  /**
   * Writes one sample of the family opened last (or one of its `_bucket`/`_sum`/`_count`);
   * an exemplar is written only in OpenMetrics.
   */
  sample(name: string, labels: Labels, value: number, exemplar?: BucketExemplar): this {
    const own = Object.entries(labels).map(([k, v]) => this.#label(k, v));
    const all = this.#constLabels ? [this.#constLabels, ...own] : own;
    let line = `${name}{${all.join(",")}} ${formatValue(value)}`;
    if (exemplar !== undefined && this.format === "openmetrics") {
      line += ` # {trace_id="${exemplar.traceId}",span_id="${exemplar.spanId}"} ${
        formatValue(exemplar.value)
      } ${(exemplar.timeMs / 1000).toFixed(3)}`;
    }
    this.#lines.push(line);
    return this;
  }

  /**
   * Writes a classic histogram: cumulative `_bucket` samples for every bound and `+Inf`, then
   * `_sum` and `_count`. `counts[i]` holds the values in bucket `i` (not cumulative); the last
   * entry holds the values above every bound. `exemplars[i]`, if any, is a sampled request of
   * bucket `i` (OpenMetrics only).
   */
  histogram(
    name: string,
    labels: Labels,
    bounds: readonly number[],
    counts: readonly number[],
    sum: number,
    exemplars: readonly (BucketExemplar | undefined)[] = [],
  ): this {
    let cumulative = 0;
    for (let i = 0; i < bounds.length; i++) {
      cumulative += counts[i];
      this.sample(
        `${name}_bucket`,
        { ...labels, le: formatValue(bounds[i]) },
        cumulative,
        exemplars[i],
      );
    }
    cumulative += counts[bounds.length];
    this.sample(
      `${name}_bucket`,
      { ...labels, le: "+Inf" },
      cumulative,
      exemplars[bounds.length],
    );
    this.sample(`${name}_sum`, labels, sum);
    this.sample(`${name}_count`, labels, cumulative);
    return this;
  }

  /**
   * Writes a summary: one sample per `[quantile label, value]`, then `_sum` and `_count`.
   */
  summary(
    name: string,
    labels: Labels,
    quantiles: readonly [string, number][],
    sum: number,
    count: number,
  ): this {
    for (const [quantile, value] of quantiles) this.sample(name, { ...labels, quantile }, value);
    this.sample(`${name}_sum`, labels, sum);
    this.sample(`${name}_count`, labels, count);
    return this;
  }

  /** The exposition text, ending with a line feed (and `# EOF` in OpenMetrics). */
  text(): string {
    const body = this.#lines.length === 0 ? "" : this.#lines.join("\n") + "\n";
    return this.format === "openmetrics" ? body + "# EOF\n" : body;
  }
}
