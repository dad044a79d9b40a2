// The coordinator's end of one worker process (`stampede worker`) on another machine: its
// WebSocket, what it said in its hello, when it was last heard from, and whether it is gone.
// The worker server (worker_server.ts) accepts it; the remote transport (remote_transport.ts)
// routes its load workers' messages.
import type { FromHost, ToHost } from "./protocol.ts";

/** What a worker process said about itself when it joined. */
export interface HostHello {
  /** Its name in records, made unique among the run's processes (`host-a`, `host-a#2`). */
  name: string;
  /** Load workers (Web Workers) it runs. */
  workers: number;
  /** Where it connected from (`10.0.0.7:51234`). */
  address: string;
}

/** What the owner of a joined process hears from it. */
export interface HostHandlers {
  /** Any message but a heartbeat. */
  message(message: FromHost): void;
  /** It is gone: silent past the tolerance, or its connection closed. Called once. */
  gone(why: string): void;
}

/** WebSocket close code of a normal end ("the run is over"). */
export const NORMAL_CLOSE = 1000;

/** One joined worker process. */
export class RemoteHost {
  readonly name: string;
  readonly workers: number;
  readonly address: string;
  readonly #socket: WebSocket;
  #handlers: HostHandlers = { message: () => {}, gone: () => {} };
  #lastHeardMs = performance.now();
  /** Why it is gone (or that it was ended), once it is. */
  #gone: string | null = null;

  constructor(socket: WebSocket, hello: HostHello) {
    this.#socket = socket;
    this.name = hello.name;
    this.workers = hello.workers;
    this.address = hello.address;
  }

  /**
   * Resolves once its connection is closed both ways (the close handshake done), so the
   * coordinator does not exit with its last frames unsent.
   */
  closed(): Promise<void> {
    const socket = this.#socket;
    if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) =>
      socket.addEventListener("close", () => resolve(), { once: true })
    );
  }

  /** Whether it is gone or was ended. */
  get gone(): boolean {
    return this.#gone !== null;
  }

  /** Sends its messages and its loss to `handlers` from now on. */
  attach(handlers: HostHandlers): void {
    this.#handlers = handlers;
  }

  send(message: ToHost): void {
    if (this.#gone === null && this.#socket.readyState === WebSocket.OPEN) {
      this.#socket.send(JSON.stringify(message));
    }
  }

  /** A message arrived: it is alive. */
  receive(message: FromHost): void {
    if (this.#gone !== null) return;
    this.#lastHeardMs = performance.now();
    if (message.type !== "heartbeat") this.#handlers.message(message);
  }

  /** Sends a heartbeat and gives the process up when it was silent for longer than `toleranceMs`. */
  beat(toleranceMs: number, nowMs = performance.now()): void {
    const quietMs = nowMs - this.#lastHeardMs;
    if (quietMs > toleranceMs) {
      this.lose(`sent no heartbeat for ${(quietMs / 1000).toFixed(1)} s`);
    } else {
      this.send({ type: "heartbeat" });
    }
  }

  /** It is gone: its connection is closed and its owner told, once. */
  lose(why: string): void {
    if (this.#gone !== null) return;
    this.#gone = why;
    this.#close(4000, "lost");
    this.#handlers.gone(why);
  }

  /** Ends it normally (the run is over, or it never started): nobody is told it is gone. */
  end(reason = "the run is over"): void {
    if (this.#gone !== null) return;
    this.#gone = reason;
    this.#close(NORMAL_CLOSE, reason);
  }

  /** Refuses it: says why, then ends it. */
  refuse(reason: string): void {
    this.send({ type: "refused", reason });
    this.end(reason);
  }

  #close(code: number, reason: string): void {
    try {
      // A close reason holds at most 123 bytes.
      this.#socket.close(
        code,
        new TextDecoder().decode(new TextEncoder().encode(reason).slice(0, 120)),
      );
    } catch {
      // Already closing.
    }
  }
}
