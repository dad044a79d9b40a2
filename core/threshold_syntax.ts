// Thresholds as k6 writes them: a metric with optional tag filters, and expressions such as
// `p(95)<200`, `avg<100`, `rate<0.01`, `count>1000`, or `p(95) < baseline * 1.10`. Parsed once,
// when the plan is defined or the flag is read; evaluated on the merged stats (core/stats).
import { UsageError } from "./errors.ts";

/** The metrics thresholds can name, and the aggregations each one has. */
export const THRESHOLD_METRICS = {
  /** Request latency in ms: a trend. */
  "http.duration": ["avg", "min", "max", "med", "p"],
  /** Failed requests: a rate (failures / requests), or their count. */
  "http.failures": ["rate", "count"],
  /** Requests: their count, or their rate per second. */
  "http.reqs": ["count", "rate"],
  /** Named checks: the rate of passes (passes / evaluations), as k6's `checks`. */
  "checks": ["rate"],
  /** Latency from when each iteration was due, in ms (arrival rates, pacing): a trend. */
  "http.duration.corrected": ["max", "med", "p"],
  /** Arrival-rate iterations dropped: their count, or their share of those due. */
  "iterations.dropped": ["count", "rate"],
} as const;

/** A metric a threshold can name. */
export type ThresholdMetric = keyof typeof THRESHOLD_METRICS;

/** The tags each metric's thresholds can filter by: requests by name, method and status,
 * checks by the check's name. */
export const THRESHOLD_TAGS: Record<ThresholdMetric, readonly string[]> = {
  "http.duration": ["name", "method", "status"],
  "http.failures": ["name", "method", "status"],
  "http.reqs": ["name", "method", "status"],
  "checks": ["check"],
  "http.duration.corrected": ["name", "method", "status"],
  "iterations.dropped": ["kind"],
};

/** Tag filters: `{name:/cart,method:POST}`, `{check:cart has item}`. */
export type ThresholdFilter = Partial<
  Record<"name" | "method" | "status" | "check" | "kind", string>
>;

/** One parsed threshold expression. */
export interface ThresholdExpression {
  /** `p` (with `percentile`), `avg`, `min`, `max`, `med`, `rate` or `count`. */
  aggregation: string;
  /** For `p(N)`: N. */
  percentile?: number;
  operator: "<" | "<=" | ">" | ">=" | "==" | "!=";
  /** The number to compare with; with `baseline`, the factor the baseline's value is multiplied by. */
  value: number;
  /** `p(95) < baseline * 1.10`: compare with the same value of a baseline run. */
  baseline: boolean;
}

/** A threshold: a metric, its filters, one expression, and whether crossing it stops the run. */
export interface Threshold {
  metric: ThresholdMetric;
  filter: ThresholdFilter;
  /** The metric as written, with its filters: `http.duration{name:/cart}`. */
  metricText: string;
  /** The expression as written: `p(95)<200`. */
  expressionText: string;
  expression: ThresholdExpression;
  /** Stop the run as soon as it is crossed (after `delayAbortEvalMs` of run time). */
  abortOnFail: boolean;
  delayAbortEvalMs: number;
}

const METRIC = /^\s*([a-z][a-z.]*)\s*(?:\{([^}]*)\})?\s*$/;
const EXPRESSION =
  /^\s*(avg|min|max|med|rate|count|p\(\s*(\d+(?:\.\d+)?)\s*\))\s*(<=|>=|==|!=|<|>)\s*(?:(baseline)\s*(?:\*\s*)?)?(-?\d+(?:\.\d+)?)?\s*$/;

/** Parses a metric with its filters, `http.duration{name:/cart,method:POST}`. */
export function parseThresholdMetric(
  text: string,
): { metric: ThresholdMetric; filter: ThresholdFilter } {
  const match = METRIC.exec(text);
  const name = match?.[1] ?? "";
  if (!match || !(name in THRESHOLD_METRICS)) {
    throw new UsageError(
      `Cannot use threshold metric "${text}": use one of ${
        Object.keys(THRESHOLD_METRICS).join(", ")
      }, with filters such as {name:/cart,method:POST,status:500} or checks{check:NAME}`,
    );
  }
  const tags = THRESHOLD_TAGS[name as ThresholdMetric];
  const filter: ThresholdFilter = {};
  // A check's name may hold commas: checks take one filter, the rest of the braces.
  const parts = name === "checks" ? [match[2] ?? ""] : (match[2] ?? "").split(",");
  for (const part of parts.map((p) => p.trim()).filter((p) => p !== "")) {
    const at = part.indexOf(":");
    const tag = part.slice(0, at).trim();
    if (at <= 0 || !tags.includes(tag)) {
      throw new UsageError(
        `Cannot use threshold metric "${text}": filter ${name} by ${
          tags.join(", ")
        } as {tag:value}`,
      );
    }
    filter[tag as keyof ThresholdFilter] = part.slice(at + 1).trim();
  }
  return { metric: name as ThresholdMetric, filter };
}

/** Parses one expression of `metric`: `p(95)<200`, `rate<0.01`, `p(95) < baseline * 1.1`. */
export function parseThresholdExpression(
  metric: ThresholdMetric,
  text: string,
): ThresholdExpression {
  const match = EXPRESSION.exec(text);
  const aggregation = match?.[1].startsWith("p(") ? "p" : match?.[1];
  const allowed: readonly string[] = THRESHOLD_METRICS[metric];
  if (!match || !aggregation || !allowed.includes(aggregation) || (!match[4] && !match[5])) {
    throw new UsageError(
      `Cannot use threshold "${metric}: ${text}": expected ${
        allowed.map((a) => a === "p" ? "p(N)" : a).join(", ")
      }, an operator (< <= > >= == !=) and a number, e.g. ${
        metric === "http.duration" || metric === "http.duration.corrected"
          ? "p(95)<200"
          : metric === "http.failures"
          ? "rate<0.01"
          : metric === "checks"
          ? "rate>0.99"
          : metric === "iterations.dropped"
          ? "count==0"
          : "count>1000"
      }`,
    );
  }
  const percentile = match[2] === undefined ? undefined : Number(match[2]);
  if (percentile !== undefined && !(percentile >= 0 && percentile <= 100)) {
    throw new UsageError(`Cannot use threshold "${metric}: ${text}": p(N) needs 0 <= N <= 100`);
  }
  return {
    aggregation,
    ...(percentile === undefined ? {} : { percentile }),
    operator: match[3] as ThresholdExpression["operator"],
    value: match[5] === undefined ? 1 : Number(match[5]),
    baseline: match[4] !== undefined,
  };
}

/** A threshold as a plan writes it: an expression, or k6's object form with abortOnFail. */
export type ThresholdSpec = string | {
  threshold: string;
  abortOnFail?: boolean;
  /** Run time before an abortOnFail threshold may stop the run: `"10s"`, or ms as a number. */
  delayAbortEval?: string | number;
};

/** Parses every threshold of a plan's `thresholds` map (metric -> expressions). */
export function parseThresholds(
  map: Record<string, readonly ThresholdSpec[]>,
  parseDelayMs: (value: string | number) => number,
): Threshold[] {
  const out: Threshold[] = [];
  for (const [metricText, specs] of Object.entries(map)) {
    const { metric, filter } = parseThresholdMetric(metricText);
    if (!Array.isArray(specs)) {
      throw new UsageError(
        `Cannot use thresholds of "${metricText}": give a list of expressions, e.g. ["p(95)<200"]`,
      );
    }
    for (const spec of specs) {
      const text = typeof spec === "string" ? spec : spec?.threshold;
      if (typeof text !== "string") {
        throw new UsageError(
          `Cannot use a threshold of "${metricText}": give "p(95)<200" or { threshold, abortOnFail }`,
        );
      }
      const object = typeof spec === "string" ? {} : spec;
      out.push({
        metric,
        filter,
        metricText: metricText.trim(),
        expressionText: text.trim(),
        expression: parseThresholdExpression(metric, text),
        abortOnFail: object.abortOnFail === true,
        delayAbortEvalMs: object.delayAbortEval === undefined
          ? 0
          : parseDelayMs(object.delayAbortEval),
      });
    }
  }
  return out;
}

/** `--threshold 'http.duration{name:/cart}: p(95)<200'`: a metric, a colon, an expression. */
export function parseThresholdFlag(text: string): [metric: string, expression: string] {
  // The metric's filters may hold colons ({name:/cart}): split at the colon after them.
  const close = text.indexOf("}");
  const at = text.indexOf(":", close < 0 ? 0 : close);
  if (at <= 0) {
    throw new UsageError(
      `Cannot use threshold "${text}": write it as 'metric: expression', e.g. 'http.duration: p(95)<200'`,
    );
  }
  return [text.slice(0, at).trim(), text.slice(at + 1).trim()];
}
