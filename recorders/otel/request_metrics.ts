// Request metrics for OTLP made from the coordinator's merged interval cells: the exported
// counts and sums are exactly Stampede's own, and nothing is recorded per request.
import { type Attributes, type HrTime, ValueType } from "npm:@opentelemetry/api@1.10.0";
import { millisToHrTime } from "npm:@opentelemetry/core@3.1.0";
import type { Resource } from "npm:@opentelemetry/resources@3.1.0";
import {
  AggregationTemporality,
  type CollectionResult,
  type DataPoint,
  DataPointType,
  type ExponentialHistogram,
  type Histogram as OtelHistogram,
  type MetricData,
  type MetricProducer,
} from "npm:@opentelemetry/sdk-metrics@3.1.0";
import { bucketCounts, forEachRecordedValue, type Histogram } from "../../core/stats/histogram.ts";
import type { IntervalCell } from "../../core/stats/types.ts";
import type { HistogramKind } from "./config.ts";
import { exponentialBuckets } from "./exponential.ts";

/** Names, units and descriptions of the request instruments. */
export const REQUEST_INSTRUMENTS = {
  duration: {
    name: "stampede.request.duration",
    unit: "s",
    description: "Duration of requests, to the last byte of the response",
  },
  requests: {
    name: "stampede.requests",
    unit: "{request}",
    description: "Requests completed, with and without a measured duration",
  },
  failures: {
    name: "stampede.request.failures",
    unit: "{request}",
    description: "Requests that failed (status >= 400, network error, timeout, task exception)",
  },
  received: {
    name: "stampede.data.received",
    unit: "By",
    description: "Bytes of response bodies received",
  },
  corrected: {
    name: "stampede.request.corrected_duration",
    unit: "s",
    description:
      "Duration of requests from when their iteration was due (arrival rates, pacing): coordinated omission included",
  },
} as const;

/** What one (endpoint, status, outcome) has gathered since the start or the last collection. */
class Series {
  requests = 0;
  bytes = 0;
  /** Requests with a measured duration: the histogram's count. */
  measured = 0;
  sumUs = 0;
  minUs = Infinity;
  maxUs = 0;
  /** Explicit bucket counts (explicit histograms). */
  readonly counts: number[] | null;
  /** Count per distinct value, at the bottom of its HDR sub-bucket, in µs (exponential). */
  readonly values: Map<number, number> | null;

  constructor(
    readonly attributes: Attributes,
    readonly failed: boolean,
    kind: HistogramKind,
    buckets: number,
  ) {
    this.counts = kind === "explicit" ? new Array<number>(buckets + 1).fill(0) : null;
    this.values = kind === "exponential" ? new Map() : null;
  }
}

interface Lowest {
  lowestEquivalentValue(valueUs: number): number;
}

/** Options of {@link RequestMetrics}. */
export interface RequestMetricsOptions {
  histogram: HistogramKind;
  /** Upper bounds of the explicit buckets, in seconds. */
  boundariesS: readonly number[];
  /** Delta exports what came since the last collection; cumulative, everything since the start. */
  temporality: AggregationTemporality;
  /** The resource of the run (the reader replaces it by the meter provider's, the same one). */
  resource: Resource;
  scope: { name: string; version?: string };
  /** Wall clock in epoch ms (tests pass their own). */
  nowMs?: () => number;
}

/**
 * Accumulates interval cells into request duration histograms and request, failure and byte
 * counters, and hands them to a metric reader as a {@link MetricProducer}.
 */
export class RequestMetrics implements MetricProducer {
  readonly #options: RequestMetricsOptions;
  readonly #boundsUs: number[];
  readonly #nowMs: () => number;
  #series = new Map<string, Series>();
  /** Corrected durations, by the same keys, for cells that carry them. */
  #corrected = new Map<string, Series>();
  #startTime: HrTime;

  constructor(options: RequestMetricsOptions) {
    this.#options = options;
    this.#boundsUs = options.boundariesS.map((s) => Math.round(s * 1e6));
    this.#nowMs = options.nowMs ?? Date.now;
    this.#startTime = millisToHrTime(this.#nowMs());
  }

  /** Adds one interval's cells (from an interval or the final snapshot). */
  add(cells: readonly IntervalCell[]): void {
    for (const cell of cells) {
      if (cell.requests === 0) continue;
      const key = `${cell.method}\u0000${cell.name}\u0000${cell.status}\u0000${cell.failed}`;
      const series = this.#seriesOf(this.#series, key, cell);
      series.requests += cell.requests;
      series.bytes += cell.bytes;
      const histogram = cell.histogram;
      if (histogram !== null && histogram.totalCount > 0) {
        this.#addDurations(series, histogram, cell.sumUs);
      }
      const corrected = cell.correctedHistogram;
      if (corrected && corrected.totalCount > 0) {
        // The sum of corrected durations comes from the HDR histogram (3 significant digits).
        const sumUs = corrected.mean * corrected.totalCount;
        this.#addDurations(this.#seriesOf(this.#corrected, key, cell), corrected, sumUs);
      }
    }
  }

  #seriesOf(map: Map<string, Series>, key: string, cell: IntervalCell): Series {
    let series = map.get(key);
    if (!series) {
      series = new Series(
        {
          name: cell.name,
          method: cell.method,
          status_code: cell.status,
          outcome: cell.failed ? "failure" : "success",
        },
        cell.failed,
        this.#options.histogram,
        this.#boundsUs.length,
      );
      map.set(key, series);
    }
    return series;
  }

  #addDurations(series: Series, histogram: Histogram, sumUs: number): void {
    series.measured += histogram.totalCount;
    series.sumUs += sumUs;
    series.minUs = Math.min(series.minUs, histogram.minNonZeroValue);
    series.maxUs = Math.max(series.maxUs, histogram.maxValue);
    if (series.counts) {
      const counts = bucketCounts(histogram, this.#boundsUs);
      for (let i = 0; i < counts.length; i++) series.counts[i] += counts[i];
    } else if (series.values) {
      addValues(series.values, histogram);
    }
  }

  /** Collects the data points; under delta temporality, starts a new span. */
  collect(): Promise<CollectionResult> {
    const endTime = millisToHrTime(this.#nowMs());
    const startTime = this.#startTime;
    const series = [...this.#series.values()];
    const corrected = [...this.#corrected.values()];
    if (this.#options.temporality === AggregationTemporality.DELTA) {
      this.#series = new Map();
      this.#corrected = new Map();
      this.#startTime = endTime;
    }
    const point = <T>(s: Series, value: T): DataPoint<T> => ({
      startTime,
      endTime,
      attributes: s.attributes,
      value,
    });
    const measured = series.filter((s) => s.measured > 0);
    const metrics: MetricData[] = [
      this.#durationMetric(REQUEST_INSTRUMENTS.duration, measured, point),
      this.#durationMetric(REQUEST_INSTRUMENTS.corrected, corrected, point),
      this.#sum(REQUEST_INSTRUMENTS.requests, series.map((s) => point(s, s.requests))),
      this.#sum(
        REQUEST_INSTRUMENTS.failures,
        series.filter((s) => s.failed).map((s) => point(s, s.requests)),
      ),
      this.#sum(REQUEST_INSTRUMENTS.received, series.map((s) => point(s, s.bytes))),
    ].filter((m) => m.dataPoints.length > 0);
    return Promise.resolve({
      resourceMetrics: {
        resource: this.#options.resource,
        scopeMetrics: metrics.length > 0 ? [{ scope: this.#options.scope, metrics }] : [],
      },
      errors: [],
    });
  }

  #durationMetric(
    instrument: { name: string; unit: string; description: string },
    measured: Series[],
    point: <T>(s: Series, value: T) => DataPoint<T>,
  ): MetricData {
    const descriptor = { ...instrument, valueType: ValueType.DOUBLE };
    const aggregationTemporality = this.#options.temporality;
    const common = (s: Series) => ({
      count: s.measured,
      sum: s.sumUs / 1e6,
      min: s.minUs / 1e6,
      max: s.maxUs / 1e6,
    });
    if (this.#options.histogram === "exponential") {
      return {
        descriptor,
        aggregationTemporality,
        dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM,
        dataPoints: measured.map((s) => {
          const buckets = exponentialBuckets(
            [...s.values!].map(([valueUs, count]) => [valueUs / 1e6, count]),
          );
          const value: ExponentialHistogram = {
            ...common(s),
            scale: buckets?.scale ?? 0,
            zeroCount: 0,
            positive: { offset: buckets?.offset ?? 0, bucketCounts: buckets?.bucketCounts ?? [] },
            negative: { offset: 0, bucketCounts: [] },
          };
          return point(s, value);
        }),
      };
    }
    return {
      descriptor,
      aggregationTemporality,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: measured.map((s) => {
        const value: OtelHistogram = {
          ...common(s),
          buckets: { boundaries: [...this.#options.boundariesS], counts: [...s.counts!] },
        };
        return point(s, value);
      }),
    };
  }

  #sum(
    instrument: { name: string; unit: string; description: string },
    dataPoints: DataPoint<number>[],
  ): MetricData {
    return {
      descriptor: { ...instrument, valueType: ValueType.INT },
      aggregationTemporality: this.#options.temporality,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints,
    };
  }
}

/** Adds each recorded value of `histogram`, at the bottom of its sub-bucket, to `values`. */
function addValues(values: Map<number, number>, histogram: Histogram): void {
  const lowest = histogram as unknown as Lowest;
  forEachRecordedValue(histogram, (valueUs, count) => {
    const bottomUs = lowest.lowestEquivalentValue(valueUs);
    values.set(bottomUs, (values.get(bottomUs) ?? 0) + count);
  });
}
