// The settings of a run's traces: `--traces` and its flags, then the standard OTEL_* variables
// (the same endpoint, protocol, header and timeout rules as the metrics, read by config.ts), then
// defaults. Resolved once on the coordinator; each load worker's span sink gets the result.
import { UsageError } from "../../core/errors.ts";
import {
  type EnvReader,
  envValue,
  type OtlpProtocol,
  positiveMs,
  resolveServiceResource,
  resolveSignalHeaders,
  resolveSignalProtocol,
  resolveSignalTimeoutMs,
  resolveSignalUrl,
  type ServiceResource,
} from "./config.ts";

/** The samplers of `OTEL_TRACES_SAMPLER` that Stampede supports. */
export const SAMPLER_NAMES = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const;

/** A sampler as `OTEL_TRACES_SAMPLER` names it. */
export type SamplerName = typeof SAMPLER_NAMES[number];

/** Which sampler decides whether an iteration (a new trace) is sampled. */
export interface TraceSamplerConfig {
  name: SamplerName;
  /** The share of traces kept by the `*traceidratio` samplers, 0 to 1 (1 for the others). */
  ratio: number;
}

/** The span batching of each load worker (the `OTEL_BSP_*` variables). */
export interface SpanBatchConfig {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMs: number;
  exportTimeoutMs: number;
}

/** Everything a load worker's span sink needs to know. Plain data: it crosses to workers. */
export interface TraceConfig extends ServiceResource {
  /** Full URL spans are POSTed to, e.g. `http://localhost:4318/v1/traces`. */
  url: string;
  protocol: OtlpProtocol;
  headers: Record<string, string>;
  /** Time one export may take, retries included, in ms. */
  timeoutMs: number;
  sampler: TraceSamplerConfig;
  batch: SpanBatchConfig;
}

/** The run options that turn traces on and set them (flags or their STAMPEDE_* variables). */
export interface TraceOptions {
  /** `--traces`. */
  traces?: boolean;
  /** `--trace-sample-ratio R`: parent-based, trace-id ratio R (0 to 1). */
  traceSampleRatio?: number | string;
  /** `--trace-endpoint URL`: `/v1/traces` is added unless it ends with it. */
  traceEndpoint?: string;
}

/** Whether `OTEL_TRACES_EXPORTER` asks for OTLP traces (true), none (false) or is unset. */
function exporterFromEnv(env: EnvReader): boolean | undefined {
  const value = envValue(env, "OTEL_TRACES_EXPORTER");
  if (value === undefined) return undefined;
  const names = value.split(",").map((n) => n.trim().toLowerCase()).filter((n) => n !== "");
  const unsupported = names.find((n) => n !== "otlp" && n !== "none");
  if (unsupported !== undefined) {
    throw new UsageError(
      `Cannot use OTEL_TRACES_EXPORTER "${value}": Stampede exports traces over OTLP only; use otlp or none`,
    );
  }
  return names.includes("otlp");
}

/** A sampling ratio from 0 to 1. */
export function parseRatio(value: string | number, source: string): number {
  const ratio = Number(value);
  if (String(value).trim() === "" || !(ratio >= 0 && ratio <= 1)) {
    throw new UsageError(`Cannot use ${source} "${value}": expected a number from 0 to 1`);
  }
  return ratio;
}

/**
 * The sampler: `--trace-sample-ratio R` is `parentbased_traceidratio` with R; else
 * `OTEL_TRACES_SAMPLER` with `OTEL_TRACES_SAMPLER_ARG`; else the specification's default,
 * `parentbased_always_on`.
 */
function resolveSampler(options: TraceOptions, env: EnvReader): TraceSamplerConfig {
  if (options.traceSampleRatio !== undefined && options.traceSampleRatio !== "") {
    const ratio = parseRatio(options.traceSampleRatio, "--trace-sample-ratio");
    return { name: "parentbased_traceidratio", ratio };
  }
  const value = envValue(env, "OTEL_TRACES_SAMPLER")?.toLowerCase();
  if (value === undefined) return { name: "parentbased_always_on", ratio: 1 };
  if (!(SAMPLER_NAMES as readonly string[]).includes(value)) {
    throw new UsageError(
      `Cannot use OTEL_TRACES_SAMPLER "${value}": expected one of ${SAMPLER_NAMES.join(", ")}`,
    );
  }
  const name = value as SamplerName;
  if (!name.endsWith("traceidratio")) return { name, ratio: name.endsWith("off") ? 0 : 1 };
  const arg = envValue(env, "OTEL_TRACES_SAMPLER_ARG");
  return { name, ratio: arg === undefined ? 1 : parseRatio(arg, "OTEL_TRACES_SAMPLER_ARG") };
}

/** A whole number > 0 from an `OTEL_BSP_*` variable, else `fallback`. */
function count(env: EnvReader, name: string, fallback: number): number {
  const value = envValue(env, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !(n > 0)) {
    throw new UsageError(`Cannot use ${name} "${value}": expected a whole number > 0`);
  }
  return n;
}

function resolveBatch(env: EnvReader): SpanBatchConfig {
  const maxQueueSize = count(env, "OTEL_BSP_MAX_QUEUE_SIZE", 2048);
  const maxExportBatchSize = count(env, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512);
  if (maxExportBatchSize > maxQueueSize) {
    throw new UsageError(
      `Cannot use OTEL_BSP_MAX_EXPORT_BATCH_SIZE "${maxExportBatchSize}": it must not exceed OTEL_BSP_MAX_QUEUE_SIZE (${maxQueueSize})`,
    );
  }
  const ms = (name: string, fallback: number) => {
    const value = envValue(env, name);
    return value === undefined ? fallback : positiveMs(value, name);
  };
  return {
    maxQueueSize,
    maxExportBatchSize,
    scheduledDelayMs: ms("OTEL_BSP_SCHEDULE_DELAY", 5000),
    exportTimeoutMs: ms("OTEL_BSP_EXPORT_TIMEOUT", 30_000),
  };
}

/**
 * Resolves the run's trace settings, or null when traces are off. `--traces` (or
 * `OTEL_TRACES_EXPORTER=otlp`) turns them on; `--trace-sample-ratio` and `--trace-endpoint`
 * without them are a mistake, said at once. Throws a UsageError naming a bad flag or variable.
 */
export function resolveTraceConfig(options: TraceOptions, env: EnvReader): TraceConfig | null {
  const on = options.traces === true || (options.traces === undefined && exporterFromEnv(env));
  if (!on) {
    const stray = options.traceSampleRatio !== undefined
      ? "--trace-sample-ratio"
      : options.traceEndpoint !== undefined
      ? "--trace-endpoint"
      : null;
    if (stray !== null) {
      throw new UsageError(
        `Cannot use ${stray} without traces: add --traces (or set OTEL_TRACES_EXPORTER=otlp)`,
      );
    }
    return null;
  }
  const endpoint = options.traceEndpoint?.trim() || undefined;
  return {
    url: resolveSignalUrl("traces", "--trace-endpoint", endpoint, env),
    protocol: resolveSignalProtocol("traces", null, env),
    headers: resolveSignalHeaders("traces", env),
    timeoutMs: resolveSignalTimeoutMs("traces", env),
    sampler: resolveSampler(options, env),
    batch: resolveBatch(env),
    ...resolveServiceResource(env),
  };
}
