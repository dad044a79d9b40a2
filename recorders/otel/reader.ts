// A metric reader that decides when: one export per interval, never two at once, and a last
// export at the stop that does not wait for a slow one still in flight.
import { type ExportResult, ExportResultCode } from "npm:@opentelemetry/core@3.1.0";
import {
  type MetricProducer,
  MetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
  type ScopeMetrics,
} from "npm:@opentelemetry/sdk-metrics@3.1.0";
import { describeError } from "../../core/errors.ts";

/** Options of {@link IntervalExportingReader}. */
export interface IntervalExportingReaderOptions {
  exporter: PushMetricExporter;
  /** Time between two exports, in ms. */
  intervalMs: number;
  /** Producers of metrics made outside the SDK's instruments. */
  metricProducers?: MetricProducer[];
  /** Called once for each export that failed (after the exporter's own retries). */
  onFailure?: (error: string, stats: ExportStats) => void;
  /**
   * Called once per interval while an export has been running for longer than an interval
   * (a collector that is down or slow while the exporter retries), with how long, in ms.
   */
  onStalled?: (runningMs: number) => void;
  /** Monotonic clock in ms (tests pass their own). */
  nowMs?: () => number;
}

/** How exports went so far. */
export interface ExportStats {
  /** Exports attempted (each may have been retried by the exporter). */
  attempts: number;
  failures: number;
  /** Why the last failed export failed. */
  lastError: string | null;
}

/** Explains an exporter error in words a user can act on. */
export function describeExportError(error: unknown): string {
  if (error === undefined) return "unknown error";
  if (/retryable status/.test(String((error as Error).message))) {
    return "the collector kept answering 429/502/503/504 or timing out until the export timeout";
  }
  const code = (error as { code?: unknown }).code;
  const text = describeError(error);
  return typeof code === "number" ? `HTTP ${code} (${text})` : text;
}

/**
 * Joins the scopes that have the same name and version: the SDK's instruments and a metric
 * producer each bring their own, and one scope reads better in a backend.
 */
export function mergeScopes(metrics: ResourceMetrics): ResourceMetrics {
  const byScope = new Map<string, ScopeMetrics>();
  for (const { scope, metrics: list } of metrics.scopeMetrics) {
    const key = `${scope.name}\u0000${scope.version ?? ""}\u0000${scope.schemaUrl ?? ""}`;
    const prior = byScope.get(key);
    if (prior) prior.metrics.push(...list);
    else byScope.set(key, { scope, metrics: [...list] });
  }
  return { resource: metrics.resource, scopeMetrics: [...byScope.values()] };
}

/**
 * Exports every `intervalMs`; an interval that comes while an export is still running is
 * skipped (and reported through `onStalled`), so a slow collector never piles up exports or
 * slows the run. Failed exports are counted and reported through `onFailure`.
 */
export class IntervalExportingReader extends MetricReader {
  readonly #exporter: PushMetricExporter;
  readonly #intervalMs: number;
  readonly #onFailure: (error: string, stats: ExportStats) => void;
  readonly #onStalled: (runningMs: number) => void;
  readonly #nowMs: () => number;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** The periodic export running now, and when it started. */
  #inFlight: { done: Promise<void>; sinceMs: number } | null = null;
  /** Exports handed to the exporter that have not answered yet. */
  #pending = 0;
  /** Set once the last export was given up: what answers later is no longer reported. */
  #silenced = false;
  readonly stats: ExportStats = { attempts: 0, failures: 0, lastError: null };

  constructor(options: IntervalExportingReaderOptions) {
    super({
      aggregationTemporalitySelector: options.exporter.selectAggregationTemporality?.bind(
        options.exporter,
      ),
      aggregationSelector: options.exporter.selectAggregation?.bind(options.exporter),
      metricProducers: options.metricProducers,
    });
    this.#exporter = options.exporter;
    this.#intervalMs = options.intervalMs;
    this.#onFailure = options.onFailure ?? (() => {});
    this.#onStalled = options.onStalled ?? (() => {});
    this.#nowMs = options.nowMs ?? (() => performance.now());
  }

  protected override onInitialized(): void {
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
    Deno.unrefTimer(this.#timer);
  }

  #tick(): void {
    if (this.#inFlight) {
      this.#onStalled(this.#nowMs() - this.#inFlight.sinceMs);
      return;
    }
    const done = this.exportOnce().finally(() => this.#inFlight = null);
    this.#inFlight = { done, sinceMs: this.#nowMs() };
  }

  #fail(error: string, exports = 1): void {
    if (this.#silenced) return;
    this.stats.failures += exports;
    this.stats.lastError = error;
    this.#onFailure(error, { ...this.stats });
  }

  /** Collects and exports once, now; resolves when the exporter has answered. Never throws. */
  async exportOnce(): Promise<void> {
    let metrics: ResourceMetrics;
    try {
      metrics = mergeScopes((await this.collect()).resourceMetrics);
    } catch (error) {
      this.stats.attempts++;
      return this.#fail(`cannot collect metrics: ${describeError(error)}`);
    }
    if (metrics.scopeMetrics.length === 0) return;
    this.stats.attempts++;
    this.#pending++;
    let result: ExportResult;
    try {
      result = await new Promise<ExportResult>((resolve) =>
        this.#exporter.export(metrics, resolve)
      );
    } catch (error) {
      result = { code: ExportResultCode.FAILED, error: error as Error };
    } finally {
      this.#pending--;
    }
    if (result.code !== ExportResultCode.SUCCESS) this.#fail(describeExportError(result.error));
  }

  /**
   * The last export: stops the interval, collects now and exports, then shuts the exporter
   * down, all within `budgetMs`. Exports that have not answered by then (the last one, and one
   * still retrying) count as failed. Resolves to whether everything finished in time.
   */
  async finish(budgetMs: number): Promise<boolean> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<false>((resolve) =>
      timer = setTimeout(() => resolve(false), budgetMs)
    );
    const work = (async () => {
      await this.exportOnce();
      await this.#exporter.shutdown().catch(() => {});
      return true as const;
    })();
    const finished = await Promise.race([work, late]);
    clearTimeout(timer);
    if (!finished && this.#pending > 0) {
      this.#fail(`the last export did not finish within ${budgetMs} ms`, this.#pending);
      this.#silenced = true;
    }
    return finished;
  }

  protected override async onForceFlush(): Promise<void> {
    await this.exportOnce();
  }

  protected override onShutdown(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    return Promise.resolve();
  }
}
