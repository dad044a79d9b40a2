// A load worker's per-endpoint request counters and latency histograms for the current interval.
import { createHistogram, encodeHistogram, type Histogram, recordLatencyUs } from "./histogram.ts";
import type { CellDelta, EndpointDelta, StatsDelta } from "./delta.ts";
import { DEFAULT_MAX_NAMES, MAX_FAILURE_TEXTS, OTHER_FAILURES, OTHER_NAME } from "./aggregator.ts";
import { CheckCounts } from "./checks.ts";
import { IterationTally } from "./iterations.ts";
import { ExemplarSlots } from "./exemplars.ts";

class Cell {
  requests = 0;
  bytes = 0;
  histogram: Histogram | null = null;
  sumUs = 0;
  minUs = Infinity;
  maxUs = 0;
  /** Latencies from when the request's iteration was due, in runs that know it. */
  corrected: Histogram | null = null;
  correctedMaxUs = 0;
  /** Sampled requests of the interval (traces on), created with the first. */
  exemplars: ExemplarSlots | null = null;
  constructor(readonly status: number, readonly failed: boolean) {}
}

/** Where one endpoint's requests are counted: a method and a name. */
export interface EndpointSink {
  /**
   * Counts one finished request. `latencyUs` is in integer microseconds, or
   * {@link NO_LATENCY}; `error` is the failure's short text, or null for a success;
   * `correctedUs`, the latency from when the request's iteration was due, when known.
   */
  record(
    status: number,
    latencyUs: number,
    bytes: number,
    error: string | null,
    correctedUs?: number,
  ): void;
  /** Counts a request cut off by the stop (neither a success nor a failure). */
  abort(): void;
  /**
   * Counts `n` attempts of a request the engine sent again after a reused connection closed
   * unanswered: they reached the network, not the target's answer (the request itself is
   * counted once, by `record` or `abort`).
   */
  retried(n: number): void;
  /**
   * Keeps a sampled request, counted by `record` just before, as an exemplar of its cell (the
   * cell of `status` and `failed`): its latency in µs, trace and span ids, end in Unix ms.
   */
  exemplar?(
    status: number,
    failed: boolean,
    latencyUs: number,
    traceId: string,
    spanId: string,
    timeMs: number,
  ): void;
}

/** Where requests are counted, as `ctx.http` and `ctx.record` see it. */
export interface RequestSink {
  /**
   * The counters of `method` and `name`, for a caller that records there again and again (the
   * same object every time: it can be kept instead of looked up per request).
   */
  endpoint(method: string, name: string): EndpointSink;
  /** Counts one finished request of `method` and `name` (see {@link EndpointSink.record}). */
  record(
    method: string,
    name: string,
    status: number,
    latencyUs: number,
    bytes: number,
    error: string | null,
    correctedUs?: number,
  ): void;
  /** Counts a request of `method` and `name` cut off by the stop. */
  abort(method: string, name: string): void;
  /** Counts one evaluation of the named check `name`. */
  check(name: string, passed: boolean): void;
}

class Endpoint implements EndpointSink {
  readonly ok = new Map<number, Cell>();
  readonly failed = new Map<number, Cell>();
  readonly errors = new Map<string, number>();
  aborted = 0;
  retries = 0;
  touched = false;
  /** The cell of the last success: most requests of an endpoint answer with one status. */
  #lastOk: Cell | null = null;
  constructor(readonly method: string, readonly name: string) {}

  record(
    status: number,
    latencyUs: number,
    bytes: number,
    error: string | null,
    correctedUs = NO_LATENCY,
  ): void {
    this.touched = true;
    let cell: Cell;
    if (error === null) {
      const last = this.#lastOk;
      cell = last !== null && last.status === status ? last : this.#okCell(status);
    } else {
      cell = this.failed.get(status) ?? this.#newCell(this.failed, status, true);
      // Texts past the limit in one interval are counted together (the coordinator does the
      // same over the run), so unique texts cannot grow a worker's memory.
      const errors = this.errors;
      const text = errors.has(error) || errors.size < MAX_FAILURE_TEXTS ? error : OTHER_FAILURES;
      errors.set(text, (errors.get(text) ?? 0) + 1);
    }
    cell.requests++;
    cell.bytes += bytes;
    if (latencyUs >= 0) {
      cell.histogram ??= createHistogram();
      recordLatencyUs(cell.histogram, latencyUs);
      cell.sumUs += latencyUs;
      if (latencyUs < cell.minUs) cell.minUs = latencyUs;
      if (latencyUs > cell.maxUs) cell.maxUs = latencyUs;
    }
    if (correctedUs >= 0) {
      cell.corrected ??= createHistogram();
      recordLatencyUs(cell.corrected, correctedUs);
      if (correctedUs > cell.correctedMaxUs) cell.correctedMaxUs = correctedUs;
    }
  }

  abort(): void {
    this.touched = true;
    this.aborted++;
  }

  retried(n: number): void {
    this.touched = true;
    this.retries += n;
  }

  /**
   * Lets go of the cells (95 KB of histogram each) of an endpoint that had no request in a whole
   * interval: a worker holds histograms for the names in use, not every name it ever saw.
   */
  release(): void {
    this.ok.clear();
    this.failed.clear();
    this.#lastOk = null;
  }

  exemplar(
    status: number,
    failed: boolean,
    latencyUs: number,
    traceId: string,
    spanId: string,
    timeMs: number,
  ): void {
    const cell = (failed ? this.failed : this.ok).get(status);
    if (cell === undefined || latencyUs < 0) return;
    (cell.exemplars ??= new ExemplarSlots()).offer(latencyUs, traceId, spanId, timeMs);
  }

  #okCell(status: number): Cell {
    return this.#lastOk = this.ok.get(status) ?? this.#newCell(this.ok, status, false);
  }

  #newCell(cells: Map<number, Cell>, status: number, failed: boolean): Cell {
    const cell = new Cell(status, failed);
    cells.set(status, cell);
    return cell;
  }
}

/** The `latencyUs` of a request whose latency was not measured (a task that threw). */
export const NO_LATENCY = -1;

/** Options of {@link RequestStats}. */
export interface RequestStatsOptions {
  /**
   * Distinct names per method kept (the run's `--max-names`); the requests of later names are
   * counted under `(other)`, so a plan requesting unique URLs cannot grow a worker's memory.
   */
  maxNames?: number;
  /** Called once when check names pass their limit (checks.ts). */
  onCheckLimit?: () => void;
}

/**
 * A load worker's request stats for the current interval. The hot path (an endpoint's `record`,
 * its handle kept by the caller) finds the cell of the last status without a lookup, increments
 * counters and records one histogram value: no strings built, nothing sent.
 */
export class RequestStats implements RequestSink {
  readonly #byMethod = new Map<string, Map<string, Endpoint>>();
  readonly #maxNames: number;
  readonly #checks: CheckCounts;

  constructor(options: RequestStatsOptions = {}) {
    this.#maxNames = options.maxNames ?? DEFAULT_MAX_NAMES;
    this.#checks = new CheckCounts(options.onCheckLimit);
  }

  /** Counts one evaluation of the named check `name`. */
  check(name: string, passed: boolean): void {
    this.#checks.count(name, passed);
  }

  /** The worker's iterations started and dropped, by user kind. */
  readonly iterations = new IterationTally();

  #endpoint(method: string, name: string): Endpoint {
    let byName = this.#byMethod.get(method);
    if (byName === undefined) {
      byName = new Map();
      this.#byMethod.set(method, byName);
    }
    let endpoint = byName.get(name);
    if (endpoint === undefined) {
      // Past the limit, new names share the method's (other) row (the coordinator says so).
      if (byName.size >= this.#maxNames && name !== OTHER_NAME) {
        return this.#endpoint(method, OTHER_NAME);
      }
      endpoint = new Endpoint(method, name);
      byName.set(name, endpoint);
    }
    return endpoint;
  }

  endpoint(method: string, name: string): EndpointSink {
    return this.#endpoint(method, name);
  }

  /** Counts one finished request (see {@link EndpointSink.record}). */
  record(
    method: string,
    name: string,
    status: number,
    latencyUs: number,
    bytes: number,
    error: string | null,
    correctedUs = NO_LATENCY,
  ): void {
    this.#endpoint(method, name).record(status, latencyUs, bytes, error, correctedUs);
  }

  /** Counts a request cut off by the stop. */
  abort(method: string, name: string): void {
    this.#endpoint(method, name).abort();
  }

  /** Returns what was counted since the last call and starts a new interval. */
  takeDelta(): StatsDelta {
    const endpoints: EndpointDelta[] = [];
    for (const byName of this.#byMethod.values()) {
      for (const endpoint of byName.values()) {
        if (!endpoint.touched) {
          endpoint.release();
          continue;
        }
        const cells: CellDelta[] = [];
        for (const cell of [...endpoint.ok.values(), ...endpoint.failed.values()]) {
          if (cell.requests === 0) continue;
          const exemplars = cell.exemplars?.take();
          cells.push({
            ...(exemplars ? { exemplars } : {}),
            status: cell.status,
            failed: cell.failed,
            requests: cell.requests,
            bytes: cell.bytes,
            histogram: cell.histogram && cell.histogram.totalCount > 0
              ? encodeHistogram(cell.histogram)
              : null,
            sumUs: cell.sumUs,
            minUs: cell.minUs === Infinity ? 0 : cell.minUs,
            maxUs: cell.maxUs,
            ...(cell.corrected !== null && cell.corrected.totalCount > 0
              ? {
                correctedHistogram: encodeHistogram(cell.corrected),
                correctedMaxUs: cell.correctedMaxUs,
              }
              : {}),
          });
          cell.corrected?.reset();
          cell.correctedMaxUs = 0;
          cell.requests = 0;
          cell.bytes = 0;
          cell.sumUs = 0;
          cell.minUs = Infinity;
          cell.maxUs = 0;
          cell.histogram?.reset();
        }
        endpoints.push({
          method: endpoint.method,
          name: endpoint.name,
          cells,
          errors: [...endpoint.errors],
          aborted: endpoint.aborted,
          ...(endpoint.retries > 0 ? { retries: endpoint.retries } : {}),
        });
        endpoint.errors.clear();
        endpoint.aborted = 0;
        endpoint.retries = 0;
        endpoint.touched = false;
      }
    }
    const iterations = this.iterations.take();
    return {
      endpoints,
      checks: this.#checks.take(),
      ...(iterations.length > 0 ? { iterations } : {}),
    };
  }
}
