// The messages between the coordinator and its load workers: one discriminated union each way,
// plain data, so they cross a Web Worker boundary (and later a WebSocket) unchanged.
import type { HttpEngineName } from "../http/engine.ts";
import type { TraceSettings } from "../span_sink.ts";
import type { RunInfo } from "../run_info.ts";
import type { StatsDelta } from "../stats/delta.ts";
import type { SharedTable } from "./data_table.ts";
import type { SystemReadings } from "./system_metrics.ts";

/** The HTTP settings of every user, resolved once on the coordinator (flags > env > plan). */
export interface HttpSettings {
  /** The target's base URL, credentials included (only RunInfo's redacted host is ever shown). */
  host: string;
  engine: HttpEngineName;
  /** Skips TLS certificate checks (h1 only). */
  insecure: boolean;
  /** Request timeout when a request sets none, in ms. */
  timeoutMs: number;
  /** Headers sent with every request. */
  headers: Record<string, string>;
  /** Traces of the requests (`--traces`); absent or null when off. */
  traces?: TraceSettings | null;
}

/** Messages from the coordinator to a load worker. */
export type ToWorker =
  | {
    type: "init";
    workerId: number;
    /** URL of the plan module the worker imports. */
    planUrl: string;
    /**
     * The plan bundled by the bundle plan loader (a compiled stampede): the worker evaluates it
     * instead of importing `planUrl`.
     */
    planCode?: string;
    run: RunInfo;
    statsIntervalMs: number;
    /**
     * How many workers the run's users are placed on: worker `workerId` replays the placement
     * (ramp.ts's UserAllocator) to number its users as the whole run does.
     */
    workers: number;
    http: HttpSettings;
    /** The plan's data files, read once by the coordinator, in memory every worker shares. */
    data: SharedTable[];
  }
  /** How many users of each kind this worker should run now. */
  | { type: "users"; counts: Record<string, number> }
  /**
   * Stop: no new tasks; in-flight ones get `timeoutMs`, then they are cut off. A second stop
   * cuts them off at once.
   */
  | { type: "stop"; timeoutMs: number };

/** Users a load worker runs, as it reports them. */
export interface WorkerUsers {
  /** Running users by kind. */
  active: Record<string, number>;
  /** Users ever started on this worker. */
  started: number;
}

/** A worker thread's CPU, heap and event-loop lag over the interval, taken at `at`. */
export type WorkerSystemReadings = SystemReadings & { at: string };

/** Messages from a load worker to the coordinator. */
export type FromWorker =
  | { type: "ready"; workerId: number }
  | {
    type: "stats";
    workerId: number;
    delta: StatsDelta;
    users: WorkerUsers;
    system?: WorkerSystemReadings;
  }
  /** The last delta: the worker has stopped every user and will send nothing more. */
  | {
    type: "stopped";
    workerId: number;
    delta: StatsDelta;
    users: WorkerUsers;
    system?: WorkerSystemReadings;
  }
  | { type: "warning"; workerId: number; message: string }
  /** The worker cannot go on (e.g. the plan fails to import there). */
  | { type: "failed"; workerId: number; message: string };
