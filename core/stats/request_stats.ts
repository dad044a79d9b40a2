// A load worker's per-endpoint request counters and latency histograms for the current interval.
import { createHistogram, encodeHistogram, type Histogram, recordLatencyUs } from "./histogram.ts";
import type { CellDelta, EndpointDelta, StatsDelta } from "./delta.ts";

class Cell {
  requests = 0;
  bytes = 0;
  histogram: Histogram | null = null;
  sumUs = 0;
  minUs = Infinity;
  maxUs = 0;
  constructor(readonly status: number, readonly failed: boolean) {}
}

class Endpoint {
  readonly ok = new Map<number, Cell>();
  readonly failed = new Map<number, Cell>();
  readonly errors = new Map<string, number>();
  aborted = 0;
  touched = false;
  constructor(readonly method: string, readonly name: string) {}
}

/** Where requests are counted, as `ctx.http` and `ctx.record` see it. */
export interface RequestSink {
  /**
   * Counts one finished request. `latencyUs` is in integer microseconds, or
   * {@link NO_LATENCY}; `error` is the failure's short text, or null for a success.
   */
  record(
    method: string,
    name: string,
    status: number,
    latencyUs: number,
    bytes: number,
    error: string | null,
  ): void;
  /** Counts a request cut off by the stop (neither a success nor a failure). */
  abort(method: string, name: string): void;
}

/** The `latencyUs` of a request whose latency was not measured (a task that threw). */
export const NO_LATENCY = -1;

/** How many distinct names per method before a warning that names need grouping. */
export const NAME_LIMIT = 1000;

/**
 * A load worker's request stats for the current interval. The hot path (`record`) does two map
 * lookups, counter increments and one histogram record: no strings built, nothing sent.
 */
export class RequestStats implements RequestSink {
  readonly #byMethod = new Map<string, Map<string, Endpoint>>();
  #nameLimitHit: ((method: string) => void) | null;

  /** `onNameLimit` is called once when one method passes {@link NAME_LIMIT} names. */
  constructor(onNameLimit?: (method: string) => void) {
    this.#nameLimitHit = onNameLimit ?? null;
  }

  #endpoint(method: string, name: string): Endpoint {
    let byName = this.#byMethod.get(method);
    if (byName === undefined) {
      byName = new Map();
      this.#byMethod.set(method, byName);
    }
    let endpoint = byName.get(name);
    if (endpoint === undefined) {
      endpoint = new Endpoint(method, name);
      byName.set(name, endpoint);
      if (byName.size > NAME_LIMIT && this.#nameLimitHit) {
        this.#nameLimitHit(method);
        this.#nameLimitHit = null;
      }
    }
    endpoint.touched = true;
    return endpoint;
  }

  /** Counts one finished request (see {@link RequestSink.record}). */
  record(
    method: string,
    name: string,
    status: number,
    latencyUs: number,
    bytes: number,
    error: string | null,
  ): void {
    const endpoint = this.#endpoint(method, name);
    const cells = error === null ? endpoint.ok : endpoint.failed;
    let cell = cells.get(status);
    if (cell === undefined) {
      cell = new Cell(status, error !== null);
      cells.set(status, cell);
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
    if (error !== null) endpoint.errors.set(error, (endpoint.errors.get(error) ?? 0) + 1);
  }

  /** Counts a request cut off by the stop. */
  abort(method: string, name: string): void {
    this.#endpoint(method, name).aborted++;
  }

  /** Returns what was counted since the last call and starts a new interval. */
  takeDelta(): StatsDelta {
    const endpoints: EndpointDelta[] = [];
    for (const byName of this.#byMethod.values()) {
      for (const endpoint of byName.values()) {
        if (!endpoint.touched) continue;
        const cells: CellDelta[] = [];
        for (const cell of [...endpoint.ok.values(), ...endpoint.failed.values()]) {
          if (cell.requests === 0) continue;
          cells.push({
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
          });
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
        });
        endpoint.errors.clear();
        endpoint.aborted = 0;
        endpoint.touched = false;
      }
    }
    return { endpoints };
  }
}
