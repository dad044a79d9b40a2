// The messages between the coordinator and its load workers: one discriminated union each way,
// plain data, so they cross a Web Worker boundary or a WebSocket unchanged. Below them, the
// messages between the coordinator and a worker process on another machine (`stampede worker`),
// which carry the load workers' messages over one WebSocket per process.
import type { HttpEngineName } from "../http/engine.ts";
import type { TraceSettings } from "../span_sink.ts";
import type { RunInfo } from "../run_info.ts";
import type { StatsDelta } from "../stats/delta.ts";
import type { ArrivalKind } from "./arrivals.ts";
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
    /** Distinct request names per method a worker keeps; the rest are counted as `(other)`. */
    maxNames: number;
    /**
     * How many workers the run's users are placed on: worker `workerId` replays the placement
     * (ramp.ts's UserAllocator) to number its users as the whole run does.
     */
    workers: number;
    http: HttpSettings;
    /** The plan's data files, read once by the coordinator, in memory every worker shares. */
    data: SharedTable[];
    /** The open-model kinds: each worker starts its share of their iterations. */
    arrivals: ArrivalKind[];
    /**
     * The iterations left of the run's limit (Int32, one entry), shared by every worker; null
     * when the run has none.
     */
    iterations: SharedArrayBuffer | null;
  }
  /** The run starts: arrival-rate schedules count from `epochMs` (`Date.now()` time). */
  | { type: "begin"; epochMs: number }
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

/**
 * The version of the messages between a coordinator and its worker processes. A worker process
 * that speaks another version is refused (both sides say so): run the same Stampede on both.
 */
export const PROTOCOL_VERSION = 1;

/** Messages from a worker process (`stampede worker`) to the coordinator, over its WebSocket. */
export type FromHost =
  /** The first message: who the process is and how many load workers (Web Workers) it runs. */
  | { type: "hello"; protocol: number; version: string; name: string; workers: number }
  /** Sent every `heartbeatMs` from the process's main thread, which runs no users. */
  | { type: "heartbeat" }
  /** A message of load worker `worker` (1, 2, … within the process). */
  | { type: "thread"; worker: number; message: FromWorker }
  /** The process's own CPU, memory and network over the stats interval. */
  | { type: "sample"; readings: WorkerSystemReadings }
  /** The process cannot take the run (the plan's hash does not match); it leaves. */
  | { type: "refused"; reason: string };

/** Messages from the coordinator to a worker process. */
export type ToHost =
  /**
   * The process joined: the name its records carry (its own, made unique by the coordinator),
   * how often heartbeats go each way and how long a silence means the other side is gone.
   */
  | { type: "welcome"; protocol: number; name: string; heartbeatMs: number; toleranceMs: number }
  /** The process may not join (another protocol version, the run is full or over). */
  | { type: "refused"; reason: string }
  | { type: "heartbeat" }
  /**
   * The plan's code and data for this process: `plan` is the JSON text of a PlanPackage
   * (plan_package.ts) and `hash` its SHA-256 in hex; every `init` names the hash it goes with.
   */
  | { type: "plan"; hash: string; plan: string }
  /**
   * A message for load worker `worker`. An `init` comes without the plan's code and data (the
   * `plan` message brought them) and with `planHash`, the plan it is for; with an iteration
   * limit, `iterationShare` is this process's share of it (the same in each of its inits),
   * which its load workers take from in shared memory as local ones take from the run's.
   */
  | {
    type: "thread";
    worker: number;
    message: ToWorker;
    planHash?: string;
    iterationShare?: number;
  }
  /** Load worker `worker`'s last stats are merged: nothing of it can be lost any more. */
  | { type: "ack"; worker: number }
  /** Load worker `worker` is done with (stopped, failed or the run is over): end it. */
  | { type: "close"; worker: number };
