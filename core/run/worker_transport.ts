// How the coordinator reaches a load worker: a transport opens a link per worker and delivers
// its messages. Web Workers, the coordinator's own thread, or (remote_transport.ts) the load
// workers of worker processes on other machines, over one WebSocket per process.
import type { FromWorker, ToWorker, WorkerSystemReadings } from "./protocol.ts";

/** One load worker as the coordinator sees it: a port for protocol messages. */
export interface WorkerLink {
  post(message: ToWorker): void;
  /** Ends the worker (or the connection to it); nothing is delivered afterwards. */
  close(): void;
}

/** What a transport delivers from a worker. */
export interface WorkerEvents {
  message(message: FromWorker): void;
  /** The worker died or its link broke; `message` says why. */
  error(message: string): void;
  /**
   * The process that runs the worker is gone (silent past the heartbeat tolerance, or its
   * connection closed): every worker of process `host` is lost; the pool says so once per host.
   */
  lost?(host: string, message: string): void;
  /** A system sample of the process that runs the worker (a remote machine's CPU, memory, network). */
  sample?(source: string, readings: WorkerSystemReadings): void;
}

/** Starts (or connects to) load workers. */
export interface WorkerTransport {
  /** Opens load worker `workerId`; its messages go to `events`. */
  open(workerId: number, events: WorkerEvents): WorkerLink;
  /** How records name worker `workerId` (default `worker-N`); a remote one is `host-a/worker-2`. */
  sourceOf?(workerId: number): string;
  /**
   * The transport tells when its workers are lost (from heartbeats of their processes, which no
   * busy load can starve): the pool does not give them up for sending no stats.
   */
  readonly watchesLiveness?: boolean;
}
