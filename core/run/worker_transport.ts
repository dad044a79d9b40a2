// How the coordinator reaches a load worker: a transport opens a link per worker and delivers
// its messages. Web Workers and the coordinator's own thread today; a WebSocket to a remote
// worker can be added beside them without touching the run logic.
import type { FromWorker, ToWorker } from "./protocol.ts";

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
}

/** Starts (or connects to) load workers. */
export interface WorkerTransport {
  /** Opens load worker `workerId`; its messages go to `events`. */
  open(workerId: number, events: WorkerEvents): WorkerLink;
}
