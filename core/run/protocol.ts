import type { HttpEngineOptions } from "../http/engine.ts";
import type { RunInfo } from "../run_info.ts";
import type { StatsDelta } from "../stats/delta.ts";
import type { SystemReadings } from "./system_metrics.ts";

/** Messages from the coordinator to a load worker. */
export type ToWorker =
  | {
    type: "init";
    workerId: number;
    /** URL of the plan module the worker imports. */
    planUrl: string;
    run: RunInfo;
    statsIntervalMs: number;
    /** The HTTP engine chosen by flag or env var; absent: the plan's `http`, else the default. */
    http?: HttpEngineOptions;
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

/** Messages from a load worker to the coordinator. */
export type FromWorker =
  | { type: "ready"; workerId: number }
  /** `system`: the worker thread's CPU, heap and event-loop lag over the interval, at `at`. */
  | {
    type: "stats";
    workerId: number;
    delta: StatsDelta;
    users: WorkerUsers;
    system?: SystemReadings & { at: string };
  }
  /** The last delta: the worker has stopped every user and will send nothing more. */
  | {
    type: "stopped";
    workerId: number;
    delta: StatsDelta;
    users: WorkerUsers;
    system?: SystemReadings & { at: string };
  }
  | { type: "warning"; workerId: number; message: string }
  /** The worker cannot go on (e.g. the plan fails to import there). */
  | { type: "failed"; workerId: number; message: string };
