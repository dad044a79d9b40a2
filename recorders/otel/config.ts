// The otel recorder's settings: its flags, then the standard OTEL_* environment variables, then
// defaults. Resolved once, before the first request, so a bad value fails the run early.
import { parseDuration } from "../../core/duration.ts";
import { UsageError } from "../../core/errors.ts";

/** OTLP over HTTP with a protobuf body (the OTel default) or a JSON body. */
export type OtlpProtocol = "http/protobuf" | "http/json";

/** `cumulative` (default), `delta`, or `lowmemory` (delta for counters and histograms). */
export type TemporalityPreference = "cumulative" | "delta" | "lowmemory";

/** Explicit bucket boundaries, or base-2 exponential buckets. */
export type HistogramKind = "explicit" | "exponential";

/** Everything the otel recorder needs to know about where and how to export. */
export interface OtelConfig {
  /** Full URL metrics are POSTed to, e.g. `http://localhost:4318/v1/metrics`. */
  url: string;
  protocol: OtlpProtocol;
  /** Extra request headers (auth tokens). */
  headers: Record<string, string>;
  /** Time one export may take, retries included, in ms. */
  timeoutMs: number;
  /** Time between two exports, in ms. */
  intervalMs: number;
  temporality: TemporalityPreference;
  histogram: HistogramKind;
  /** Upper bounds of the explicit buckets of the request duration histogram, in seconds. */
  boundariesS: number[];
  serviceName: string;
  /** Attributes from `OTEL_RESOURCE_ATTRIBUTES`. */
  resourceAttributes: Record<string, string>;
}

/** Reads one environment variable; undefined when unset. */
export type EnvReader = (name: string) => string | undefined;

/** The OTLP/HTTP port of a collector on this machine: where exports go when nothing is set. */
export const DEFAULT_ENDPOINT = "http://localhost:4318";
/** OTEL_EXPORTER_OTLP_TIMEOUT's default per the OTel specification. */
export const DEFAULT_EXPORT_TIMEOUT_MS = 10_000;
/**
 * Export interval when neither `--otel-interval` nor `OTEL_METRIC_EXPORT_INTERVAL` is set. The
 * specification's 60 s would show a one-minute test as one point; 10 s is k6's choice too.
 */
export const DEFAULT_INTERVAL_MS = 10_000;
/**
 * Bucket bounds in seconds advised by the HTTP semantic conventions for request durations
 * (`http.client.request.duration`), so dashboards built for those fit.
 */
export const DEFAULT_BOUNDARIES_S = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.075,
  0.1,
  0.25,
  0.5,
  0.75,
  1,
  2.5,
  5,
  7.5,
  10,
];

/** The OTLP signals Stampede exports: each has its own path and `OTEL_EXPORTER_OTLP_<SIGNAL>_*`. */
export type OtlpSignal = "metrics" | "traces";

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** A flag's value from the parsed options (by camelCase name), trimmed; undefined when unset. */
export function option(options: Record<string, unknown>, name: string): string | undefined {
  const value = options[name];
  return value === undefined || value === null ? undefined : nonEmpty(String(value));
}

/** An environment variable's value, trimmed; undefined when unset or blank. */
export function envValue(env: EnvReader, name: string): string | undefined {
  return nonEmpty(env(name));
}

function checkUrl(url: string, source: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new UsageError(`Cannot use ${source} "${url}": it is not a URL`, { cause });
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UsageError(
      `Cannot use ${source} "${url}": only http:// and https:// are supported (OTLP over HTTP)`,
    );
  }
  return parsed.href;
}

/** Appends `v1/<signal>` to a base endpoint, as OTEL_EXPORTER_OTLP_ENDPOINT is specified. */
function withSignalPath(base: string, signal: OtlpSignal): string {
  const path = `v1/${signal}`;
  return base.endsWith("/") ? base + path : `${base}/${path}`;
}

/**
 * The URL a signal is POSTed to: the flag (`flagName`, its value `flag`; `/v1/<signal>` added
 * unless it ends with it), else `OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT` as is, else
 * `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/<signal>`, else the local collector's.
 */
export function resolveSignalUrl(
  signal: OtlpSignal,
  flagName: string,
  flag: string | undefined,
  env: EnvReader,
): string {
  if (flag) {
    const url = flag.replace(/\/+$/, "").endsWith(`/v1/${signal}`)
      ? flag
      : withSignalPath(flag, signal);
    return checkUrl(url, flagName);
  }
  const specificName = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`;
  const specific = nonEmpty(env(specificName));
  if (specific) return checkUrl(specific, specificName);
  const base = nonEmpty(env("OTEL_EXPORTER_OTLP_ENDPOINT"));
  if (base) return checkUrl(withSignalPath(base, signal), "OTEL_EXPORTER_OTLP_ENDPOINT");
  return withSignalPath(DEFAULT_ENDPOINT, signal);
}

function resolveUrl(options: Record<string, unknown>, env: EnvReader): string {
  return resolveSignalUrl("metrics", "--otel-endpoint", option(options, "otelEndpoint"), env);
}

/**
 * A signal's protocol: the flag (if given), else `OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL`, else
 * `OTEL_EXPORTER_OTLP_PROTOCOL`, else `http/protobuf`.
 */
export function resolveSignalProtocol(
  signal: OtlpSignal,
  flag: [name: string, value: string | undefined] | null,
  env: EnvReader,
): OtlpProtocol {
  const specific = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_PROTOCOL`;
  const sources: [string, string | undefined][] = [
    ...(flag ? [flag] : []),
    [specific, nonEmpty(env(specific))],
    ["OTEL_EXPORTER_OTLP_PROTOCOL", nonEmpty(env("OTEL_EXPORTER_OTLP_PROTOCOL"))],
  ];
  for (const [source, value] of sources) {
    if (value === undefined) continue;
    if (value === "http/protobuf" || value === "http/json") return value;
    const hint = value === "grpc"
      ? "; gRPC is not supported: point the endpoint at the collector's OTLP/HTTP port (4318)"
      : "";
    throw new UsageError(
      `Cannot use ${source} "${value}": expected http/protobuf or http/json${hint}`,
    );
  }
  return "http/protobuf";
}

function resolveProtocol(options: Record<string, unknown>, env: EnvReader): OtlpProtocol {
  return resolveSignalProtocol(
    "metrics",
    ["--otel-protocol", option(options, "otelProtocol")],
    env,
  );
}

/** Milliseconds > 0 as an OTEL_* variable gives them; a UsageError naming `source` if not. */
export function positiveMs(value: string, source: string): number {
  const ms = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(ms > 0)) {
    throw new UsageError(`Cannot use ${source} "${value}": expected milliseconds > 0`);
  }
  return ms;
}

/** A signal's export timeout in ms: `OTEL_EXPORTER_OTLP_<SIGNAL>_TIMEOUT`, else the general one. */
export function resolveSignalTimeoutMs(signal: OtlpSignal, env: EnvReader): number {
  const specific = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_TIMEOUT`;
  for (const name of [specific, "OTEL_EXPORTER_OTLP_TIMEOUT"]) {
    const value = nonEmpty(env(name));
    if (value !== undefined) return positiveMs(value, name);
  }
  return DEFAULT_EXPORT_TIMEOUT_MS;
}

function resolveIntervalMs(options: Record<string, unknown>, env: EnvReader): number {
  const flag = option(options, "otelInterval");
  let ms = DEFAULT_INTERVAL_MS;
  let source = "--otel-interval";
  if (flag !== undefined) {
    ms = parseDuration(flag, "--otel-interval");
  } else {
    const value = nonEmpty(env("OTEL_METRIC_EXPORT_INTERVAL"));
    if (value !== undefined) {
      source = "OTEL_METRIC_EXPORT_INTERVAL";
      ms = positiveMs(value, source);
    }
  }
  if (ms < 100) {
    throw new UsageError(
      `Cannot use ${source} "${flag ?? ms}": the export interval must be >= 100ms`,
    );
  }
  return ms;
}

function resolveTemporality(env: EnvReader): TemporalityPreference {
  const name = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";
  const value = nonEmpty(env(name))?.toLowerCase();
  if (value === undefined) return "cumulative";
  if (value === "cumulative" || value === "delta" || value === "lowmemory") return value;
  throw new UsageError(`Cannot use ${name} "${value}": expected cumulative, delta or lowmemory`);
}

function resolveHistogram(options: Record<string, unknown>, env: EnvReader): HistogramKind {
  const flag = option(options, "otelHistogram");
  if (flag !== undefined) {
    if (flag === "explicit" || flag === "exponential") return flag;
    throw new UsageError(`Cannot use --otel-histogram "${flag}": expected explicit or exponential`);
  }
  const name = "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION";
  const value = nonEmpty(env(name));
  if (value === undefined || value === "explicit_bucket_histogram") return "explicit";
  if (value === "base2_exponential_bucket_histogram") return "exponential";
  throw new UsageError(
    `Cannot use ${name} "${value}": expected explicit_bucket_histogram or base2_exponential_bucket_histogram`,
  );
}

function resolveBoundaries(options: Record<string, unknown>): number[] {
  const flag = option(options, "otelBuckets");
  if (flag === undefined) return [...DEFAULT_BOUNDARIES_S];
  const bounds = flag.split(",").map((b) => Number(b.trim()));
  const ascending = bounds.every((b, i) => i === 0 || b > bounds[i - 1]);
  if (bounds.length === 0 || bounds.some((b) => !(b > 0) || !Number.isFinite(b)) || !ascending) {
    throw new UsageError(
      `Cannot use --otel-buckets "${flag}": expected ascending seconds > 0 separated by commas`,
    );
  }
  return bounds;
}

/**
 * Parses a W3C-baggage-like list `key=value,key2=value2` with percent-encoded values, as
 * OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES are specified.
 */
export function parseKeyValueList(text: string, source: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const item of text.split(",")) {
    if (item.trim() === "") continue;
    const at = item.indexOf("=");
    const key = at > 0 ? item.slice(0, at).trim() : "";
    if (key === "") {
      throw new UsageError(
        `Cannot use ${source} "${text}": expected key=value pairs, got "${item}"`,
      );
    }
    let value = item.slice(at + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      // Not percent-encoded after all: keep it as written.
    }
    pairs[key] = value;
  }
  return pairs;
}

/** A signal's export headers: the general `OTEL_EXPORTER_OTLP_HEADERS`, then the signal's own. */
export function resolveSignalHeaders(signal: OtlpSignal, env: EnvReader): Record<string, string> {
  const headers: Record<string, string> = {};
  const specific = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_HEADERS`;
  for (const name of ["OTEL_EXPORTER_OTLP_HEADERS", specific]) {
    const value = nonEmpty(env(name));
    if (value !== undefined) Object.assign(headers, parseKeyValueList(value, name));
  }
  return headers;
}

/**
 * Resolves the otel recorder's settings: flags (`options`, by camelCase name) win over the
 * standard OTEL_* variables (`env`), which win over the defaults. Throws a UsageError naming the
 * flag or variable that holds a bad value.
 */
export function resolveOtelConfig(
  options: Record<string, unknown>,
  env: EnvReader,
): OtelConfig {
  const { serviceName, resourceAttributes } = resolveServiceResource(env);
  return {
    url: resolveUrl(options, env),
    protocol: resolveProtocol(options, env),
    headers: resolveSignalHeaders("metrics", env),
    timeoutMs: resolveSignalTimeoutMs("metrics", env),
    intervalMs: resolveIntervalMs(options, env),
    temporality: resolveTemporality(env),
    histogram: resolveHistogram(options, env),
    boundariesS: resolveBoundaries(options),
    serviceName,
    resourceAttributes,
  };
}

/** Who exports: `OTEL_SERVICE_NAME` (else `service.name` of the attributes, else `stampede`). */
export interface ServiceResource {
  serviceName: string;
  /** Attributes from `OTEL_RESOURCE_ATTRIBUTES`. */
  resourceAttributes: Record<string, string>;
}

/** Reads `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`, shared by metrics and traces. */
export function resolveServiceResource(env: EnvReader): ServiceResource {
  const resourceText = nonEmpty(env("OTEL_RESOURCE_ATTRIBUTES"));
  const resourceAttributes = resourceText === undefined
    ? {}
    : parseKeyValueList(resourceText, "OTEL_RESOURCE_ATTRIBUTES");
  return {
    serviceName: nonEmpty(env("OTEL_SERVICE_NAME")) ?? resourceAttributes["service.name"] ??
      "stampede",
    resourceAttributes,
  };
}
