// What the report shows, gathered while the run goes: the run's facts and events, a point per
// stats interval for the charts over time, and at the end the tables and the percentile
// spectrum of the whole run's HDR histograms. The result is plain data (JSON in the page).
import type { FinalSnapshot, IntervalSnapshot, LifecycleEvent } from "../../core/recorder/types.ts";
import type { RunInfo, StopReason } from "../../core/run_info.ts";
import { createHistogram, type Histogram, percentilesUs } from "../../core/stats/histogram.ts";
import {
  endpointKey,
  type EndpointStats,
  type FailureStats,
  type IntervalCell,
  type StatsView,
} from "../../core/stats/types.ts";
import { overloadWarning } from "../console.ts";
import type { CheckResult, ThresholdResult } from "../../core/recorder/types.ts";
import { correctedOfCell, correctedOfFinal } from "./corrected.ts";
import { spectrumGrid, spectrumMs } from "./spectrum.ts";

/** The percentiles of the charts over time. */
export const TIMELINE_PERCENTILES = [50, 95, 99] as const;
/** The percentile columns of the endpoint table. */
export const TABLE_PERCENTILES = [50, 90, 95, 99, 99.9] as const;
/** Endpoints drawn in the spectrum beside the total: the busiest ones. */
const SPECTRUM_ENDPOINTS = 5;

/** Latencies at the timeline's percentiles, ms, one array per percentile (null: none). */
export interface LatencySeries {
  p50Ms: (number | null)[];
  p95Ms: (number | null)[];
  p99Ms: (number | null)[];
}

/** One row of the endpoint table. */
export interface EndpointRow {
  method: string;
  name: string;
  requests: number;
  failures: number;
  rps: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
  /** By percentile (`"50"`, `"99.9"`): from the run's histogram, else what the view carried. */
  percentilesMs: Record<string, number | null>;
  bytes: number;
}

/** Everything the report shows; `timeline.t` is in Unix seconds, as uPlot's time axis wants. */
export interface ReportData {
  run: {
    runId: string;
    testplan: string;
    host: string;
    version: string;
    createdAt: string;
    startedAt: string | null;
    endedAt: string | null;
    durationMs: number | null;
    reason: StopReason | null;
    /** Peak users (at the end), else the planned users. */
    users: number | null;
    spawnRate: number | null;
    runTimeMs: number | null;
    workers: number | null;
    tags: Record<string, string>;
    metadata: Record<string, string>;
  };
  stages: { stage: number; users: number; durationMs: number; at: string }[];
  warnings: { at: string; source: string; text: string }[];
  timeline: {
    t: number[];
    rps: number[];
    failuresPerSec: number[];
    users: number[];
    service: LatencySeries;
    /** Present when the data carries corrected latencies (./corrected.ts). */
    corrected: LatencySeries | null;
  };
  /** The whole run's percentile spectrum: x = 1 / (1 - p); null until the final stats. */
  spectrum: { x: number[]; series: { label: string; valuesMs: number[] }[] } | null;
  endpoints: EndpointRow[];
  total: EndpointRow | null;
  failures: FailureStats[];
  thresholds: ThresholdResult[];
  checks: CheckResult[];
  /** False when the run ended without its final stats (the tables show the last interval). */
  complete: boolean;
}

function emptyLatencies(): LatencySeries {
  return { p50Ms: [], p95Ms: [], p99Ms: [] };
}

function pushLatencies(series: LatencySeries, histogram: Histogram | null): void {
  const values = histogram && histogram.totalCount > 0
    ? percentilesUs(histogram, TIMELINE_PERCENTILES).map((us) => us / 1000)
    : [null, null, null];
  series.p50Ms.push(values[0]);
  series.p95Ms.push(values[1]);
  series.p99Ms.push(values[2]);
}

/** Gathers a run's report data from its events and snapshots. */
export class ReportCollector {
  readonly #data: ReportData;
  /** The interval's latencies, merged from its cells (one histogram, reset each interval). */
  readonly #scratch = createHistogram();
  #correctedScratch: Histogram | null = null;
  #lastRequests = 0;
  #lastFailures = 0;
  #lastElapsedMs = 0;
  #lastCumulative: StatsView | null = null;

  constructor(run: RunInfo) {
    this.#data = {
      run: {
        runId: run.runId,
        testplan: run.testplan,
        host: run.host,
        version: run.version,
        createdAt: run.startedAt,
        startedAt: null,
        endedAt: null,
        durationMs: null,
        reason: null,
        users: null,
        spawnRate: null,
        runTimeMs: null,
        workers: null,
        tags: { ...run.tags },
        metadata: { ...run.metadata },
      },
      stages: [],
      warnings: [],
      timeline: {
        t: [],
        rps: [],
        failuresPerSec: [],
        users: [],
        service: emptyLatencies(),
        corrected: null,
      },
      spectrum: null,
      endpoints: [],
      total: null,
      failures: [],
      thresholds: [],
      checks: [],
      complete: false,
    };
  }

  event(event: LifecycleEvent): void {
    const run = this.#data.run;
    switch (event.name) {
      case "test_start":
        run.startedAt = event.data.started_at;
        run.users = event.data.users;
        run.spawnRate = event.data.spawn_rate;
        run.runTimeMs = event.data.run_time_ms;
        run.workers = event.data.workers;
        break;
      case "stage_started":
        this.#data.stages.push({
          stage: event.data.stage,
          users: event.data.users,
          durationMs: event.data.duration_ms,
          at: event.at,
        });
        break;
      case "worker_failed":
        this.#warn(event, `${event.source} failed: ${event.data.message}`);
        break;
      case "test_stop":
        run.endedAt = event.data.ended_at;
        run.durationMs = event.data.duration_ms;
        run.reason = event.data.reason;
        break;
      default: {
        const warning = overloadWarning(event);
        if (warning !== null) this.#warn(event, warning);
      }
    }
  }

  #warn(event: LifecycleEvent, text: string): void {
    this.#data.warnings.push({ at: event.at, source: event.source, text });
  }

  interval(snapshot: IntervalSnapshot): void {
    const { timeline } = this.#data;
    const total = snapshot.cumulative.total;
    const seconds = (snapshot.elapsedMs - this.#lastElapsedMs) / 1000;
    timeline.t.push(Date.parse(snapshot.at) / 1000);
    timeline.rps.push(seconds > 0 ? (total.requests - this.#lastRequests) / seconds : 0);
    timeline.failuresPerSec.push(seconds > 0 ? (total.failures - this.#lastFailures) / seconds : 0);
    timeline.users.push(snapshot.users);
    this.#lastRequests = total.requests;
    this.#lastFailures = total.failures;
    this.#lastElapsedMs = snapshot.elapsedMs;
    this.#lastCumulative = snapshot.cumulative;
    pushLatencies(timeline.service, this.#merge(this.#scratch, snapshot.cells, (c) => c.histogram));
    this.#addCorrected(snapshot.cells);
  }

  /** Corrected latencies, once any cell carries them; earlier points are null. */
  #addCorrected(cells: readonly IntervalCell[]): void {
    const { timeline } = this.#data;
    if (timeline.corrected === null) {
      if (!cells.some((c) => correctedOfCell(c) !== null)) return;
      timeline.corrected = emptyLatencies();
      for (let i = 1; i < timeline.t.length; i++) pushLatencies(timeline.corrected, null);
    }
    this.#correctedScratch ??= createHistogram();
    pushLatencies(timeline.corrected, this.#merge(this.#correctedScratch, cells, correctedOfCell));
  }

  #merge(
    into: Histogram,
    cells: readonly IntervalCell[],
    pick: (cell: IntervalCell) => Histogram | null,
  ): Histogram {
    into.reset();
    for (const cell of cells) {
      const histogram = pick(cell);
      if (histogram !== null) into.add(histogram);
    }
    return into;
  }

  final(final: FinalSnapshot): void {
    const data = this.#data;
    const histograms = new Map(final.histograms.map((h) => [endpointKey(h.method, h.name), h]));
    const row = (e: EndpointStats) =>
      endpointRow(e, histograms.get(endpointKey(e.method, e.name))?.histogram);
    data.endpoints = final.cumulative.endpoints.map(row);
    data.total = row(final.cumulative.total);
    data.failures = final.failures;
    data.run.users = final.users;
    data.thresholds = final.thresholds;
    data.checks = final.checks;
    data.spectrum = spectrumOf(final);
    data.complete = true;
  }

  /** The report's data; without final stats, the tables show the last interval's. */
  data(): ReportData {
    if (!this.#data.complete && this.#lastCumulative !== null) {
      const view = this.#lastCumulative;
      this.#data.endpoints = view.endpoints.map((e) => endpointRow(e, undefined));
      this.#data.total = endpointRow(view.total, undefined);
    }
    return this.#data;
  }
}

/** A table row: percentiles from the run's histogram when there is one, bounded by min and max. */
function endpointRow(e: EndpointStats, histogram: Histogram | undefined): EndpointRow {
  const percentilesMs: Record<string, number | null> = {};
  const measured = histogram !== undefined && histogram.totalCount > 0;
  const values = measured ? percentilesUs(histogram, TABLE_PERCENTILES) : [];
  TABLE_PERCENTILES.forEach((p, i) => {
    // A histogram without latencies (a TASK row) has no percentiles; without the run's
    // histograms (no final stats) the view's own percentiles are what there is.
    const ms = histogram === undefined
      ? e.percentilesMs[String(p)]
      : measured
      ? values[i] / 1000
      : undefined;
    percentilesMs[String(p)] = ms === undefined || e.requests === 0
      ? null
      : Math.min(e.maxMs, Math.max(e.minMs, ms));
  });
  return {
    method: e.method,
    name: e.name,
    requests: e.requests,
    failures: e.failures,
    rps: e.rps,
    meanMs: e.meanMs,
    minMs: e.minMs,
    maxMs: e.maxMs,
    percentilesMs,
    bytes: e.bytes,
  };
}

/** The spectrum of the total and of the busiest endpoints (and the corrected total, if carried). */
function spectrumOf(final: FinalSnapshot): ReportData["spectrum"] {
  const stats = new Map(
    [final.cumulative.total, ...final.cumulative.endpoints].map((e) => [
      endpointKey(e.method, e.name),
      e,
    ]),
  );
  const measured = final.histograms
    .filter((h) => h.histogram.totalCount > 0)
    .sort((a, b) => b.histogram.totalCount - a.histogram.totalCount);
  if (measured.length === 0) return null;
  const totalKey = endpointKey(final.cumulative.total.method, final.cumulative.total.name);
  const total = measured.find((h) => endpointKey(h.method, h.name) === totalKey) ?? measured[0];
  const x = spectrumGrid(total.histogram.totalCount);
  const maxOf = (h: { method: string; name: string }) =>
    stats.get(endpointKey(h.method, h.name))?.maxMs ?? Infinity;
  const series = [{
    label: "all requests",
    valuesMs: spectrumMs(total.histogram, x, maxOf(total)),
  }];
  const corrected = correctedOfFinal(total);
  if (corrected !== null && corrected.totalCount > 0) {
    series.push({ label: "all requests, corrected", valuesMs: spectrumMs(corrected, x, Infinity) });
  }
  for (const h of measured.filter((h) => h !== total).slice(0, SPECTRUM_ENDPOINTS)) {
    series.push({ label: `${h.method} ${h.name}`, valuesMs: spectrumMs(h.histogram, x, maxOf(h)) });
  }
  return { x, series };
}
