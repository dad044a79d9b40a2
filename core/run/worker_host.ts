// A worker process (`stampede worker --connect URL`): joins a coordinator on another machine, runs
// its own load workers (Web Workers, one per core by default) and relays their messages over one
// WebSocket. Its main thread runs no users, so its heartbeats go out however busy the load is.
// It gets the plan from the coordinator (never from disk), checks its hash, and leaves on its own
// when the coordinator is gone.
import { getLogger } from "npm:@logtape/logtape@2.4.2";
import { RunError } from "../errors.ts";
import { VERSION } from "../version.ts";
import type { SharedTable } from "./data_table.ts";
import { openPlan } from "./plan_package.ts";
import { type FromHost, PROTOCOL_VERSION, type ToHost } from "./protocol.ts";
import { NORMAL_CLOSE } from "./remote_host.ts";
import { LagMonitor, SystemSampler } from "./system_metrics.ts";
import { webWorkerTransport } from "./web_worker_transport.ts";
import type { ClientSocket } from "./websocket_client.ts";
import type { WorkerLink, WorkerTransport } from "./worker_transport.ts";

/** How long the coordinator may take to answer the hello. */
const WELCOME_TIMEOUT_MS = 30_000;
const LAG_TICK_MS = 10;

/** Settings of a worker process, resolved by cli.ts. */
export interface WorkerHostOptions {
  /** The coordinator's URL, for messages. */
  url: string;
  /** Load workers (Web Workers) this process runs. */
  workers: number;
  /** The name its records carry (the coordinator makes it unique: `host-a#2`). */
  name: string;
  /** Where its load workers run (default: Web Workers). */
  transport?: WorkerTransport;
  /** Lines for the person watching this process. */
  say(line: string): void;
  /** Aborting it leaves the run at once (SIGINT, SIGTERM). */
  signal?: AbortSignal;
}

/** How a worker process's part in a run ended: the run ended, or a signal took it out. */
export type HostOutcome = "completed" | "interrupted" | "terminated";

/** One load worker of this process. */
interface Thread {
  link: WorkerLink;
  /** Its final stats were acknowledged, or the coordinator ended it. */
  settled: boolean;
}

/**
 * Takes part in one run over `socket` (open, authenticated): hello, welcome, plan, the load
 * workers' messages both ways, heartbeats, until the coordinator ends the run. Throws a
 * {@link RunError} when it is refused or the coordinator is gone.
 */
export function serveAsWorker(
  socket: ClientSocket,
  options: WorkerHostOptions,
): Promise<HostOutcome> {
  return new HostSession(socket, options).done;
}

class HostSession {
  readonly done: Promise<HostOutcome>;
  readonly #socket: ClientSocket;
  readonly #options: WorkerHostOptions;
  readonly #transport: WorkerTransport;
  readonly #log = getLogger(["stampede", "worker"]);
  readonly #threads = new Map<number, Thread>();
  #name: string;
  #plan: { hash: string; code: string; data: SharedTable[] } | null = null;
  #iterations: SharedArrayBuffer | null = null;
  #welcomed = false;
  #lastHeardMs = performance.now();
  #timers: ReturnType<typeof setInterval>[] = [];
  #sampler: SystemSampler | null = null;
  #finish!: (outcome: HostOutcome | RunError) => void;
  #finished = false;

  constructor(socket: ClientSocket, options: WorkerHostOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#name = options.name;
    this.#transport = options.transport ?? webWorkerTransport;
    this.done = new Promise<HostOutcome | RunError>((resolve) => this.#finish = resolve)
      .then((outcome) => {
        if (outcome instanceof RunError) throw outcome;
        return outcome;
      });
    socket.onmessage = (event) => this.#receive(String(event.data));
    socket.onclose = (event) => this.#closed(event.code, event.reason);
    socket.onerror = () => {};
    const onAbort = () =>
      this.#end(options.signal?.reason === "terminated" ? "terminated" : "interrupted");
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    this.done.finally(() => options.signal?.removeEventListener("abort", onAbort)).catch(() => {});
    const welcomeTimer = setTimeout(() => {
      if (!this.#welcomed) {
        this.#end(
          new RunError(
            `Cannot join the coordinator at ${options.url}: it did not answer the hello`,
          ),
        );
      }
    }, WELCOME_TIMEOUT_MS);
    this.done.finally(() => clearTimeout(welcomeTimer)).catch(() => {});
    this.#send({
      type: "hello",
      protocol: PROTOCOL_VERSION,
      version: VERSION,
      name: options.name,
      workers: options.workers,
    });
  }

  #send(message: FromHost): void {
    if (this.#socket.readyState === 1) this.#socket.send(JSON.stringify(message));
  }

  #receive(text: string): void {
    this.#lastHeardMs = performance.now();
    let message: ToHost;
    try {
      message = JSON.parse(text);
    } catch {
      return this.#end(
        new RunError("Cannot go on: the coordinator sent a message that is not JSON"),
      );
    }
    switch (message.type) {
      case "welcome":
        return this.#welcome(message);
      case "refused":
        return this.#end(
          new RunError(
            `${
              this.#welcomed
                ? "Cannot go on"
                : `Cannot join the coordinator at ${this.#options.url}`
            }: it refused this worker: ${message.reason}`,
          ),
        );
      case "heartbeat":
        return;
      case "plan":
        return this.#takePlan(message.hash, message.plan);
      case "thread":
        return this.#toThread(
          message.worker,
          message.message,
          message.planHash,
          message.iterationShare,
        );
      case "ack":
        return this.#settle(message.worker);
      case "close": {
        const thread = this.#threads.get(message.worker);
        thread?.link.close();
        return this.#settle(message.worker);
      }
      default: {
        const unknown: never = message;
        this.#log.warn("Unknown message from the coordinator: {message}", {
          message: JSON.stringify(unknown).slice(0, 200),
        });
      }
    }
  }

  #welcome(welcome: Extract<ToHost, { type: "welcome" }>): void {
    if (welcome.protocol !== PROTOCOL_VERSION) {
      return this.#end(
        new RunError(
          `Cannot join the coordinator at ${this.#options.url}: it speaks protocol ${welcome.protocol}, this worker protocol ${PROTOCOL_VERSION} (stampede ${VERSION}); run the same stampede on both`,
        ),
      );
    }
    this.#welcomed = true;
    this.#name = welcome.name;
    this.#options.say(
      `joined ${this.#options.url} as ${welcome.name} with ${this.#options.workers} load worker${
        this.#options.workers === 1 ? "" : "s"
      }; waiting for the run to start`,
    );
    // From the main thread, which runs no users: the load cannot hold a heartbeat back.
    this.#timers.push(setInterval(() => {
      const quietMs = performance.now() - this.#lastHeardMs;
      if (quietMs > welcome.toleranceMs) {
        return this.#end(
          new RunError(
            `Cannot go on: the coordinator sent nothing for ${
              (quietMs / 1000).toFixed(1)
            } s; it is gone, so this worker stops`,
          ),
        );
      }
      this.#send({ type: "heartbeat" });
    }, welcome.heartbeatMs));
  }

  #takePlan(hash: string, text: string): void {
    try {
      this.#plan = { hash, ...openPlan(text, hash) };
    } catch (error) {
      const reason = `Cannot load the plan the coordinator sent: ${(error as Error).message}`;
      this.#send({ type: "refused", reason });
      this.#end(new RunError(reason));
    }
  }

  #toThread(
    worker: number,
    message: Extract<ToHost, { type: "thread" }>["message"],
    planHash?: string,
    iterationShare?: number,
  ): void {
    if (message.type !== "init") return this.#threads.get(worker)?.link.post(message);
    const plan = this.#plan;
    if (plan === null || planHash !== plan.hash) {
      const reason = `Cannot start load worker ${worker}: its init is for plan ${
        String(planHash).slice(0, 12)
      }…, this process holds ${plan ? `${plan.hash.slice(0, 12)}…` : "none"}`;
      this.#send({ type: "refused", reason });
      return this.#end(new RunError(reason));
    }
    if (this.#threads.has(worker)) return;
    this.#startSampling(message.statsIntervalMs);
    const link = this.#transport.open(worker, {
      message: (m) => this.#send({ type: "thread", worker, message: m }),
      error: (text) =>
        this.#send({
          type: "thread",
          worker,
          message: { type: "failed", workerId: message.workerId, message: text },
        }),
    });
    this.#threads.set(worker, { link, settled: false });
    link.post({
      ...message,
      planCode: plan.code,
      data: plan.data,
      iterations: iterationShare === undefined ? null : this.#budget(iterationShare),
    });
  }

  /** This process's share of the run's iteration limit, shared by its load workers. */
  #budget(share: number): SharedArrayBuffer {
    if (this.#iterations === null) {
      this.#iterations = new SharedArrayBuffer(4);
      new Int32Array(this.#iterations)[0] = share;
    }
    return this.#iterations;
  }

  /** This process's own CPU, memory and network, once per stats interval, from the first init. */
  #startSampling(intervalMs: number): void {
    if (this.#sampler) return;
    const lag = new LagMonitor(LAG_TICK_MS);
    this.#timers.push(setInterval(() => lag.tick(), LAG_TICK_MS));
    const sampler = this.#sampler = new SystemSampler({
      thread: true,
      process: true,
      network: true,
      lag,
    });
    this.#timers.push(setInterval(() => {
      this.#send({
        type: "sample",
        readings: { at: new Date().toISOString(), ...sampler.sample() },
      });
    }, intervalMs));
  }

  /** A load worker's part is over: its final stats were acknowledged or the coordinator ended it. */
  #settle(worker: number): void {
    const thread = this.#threads.get(worker);
    if (thread) thread.settled = true;
  }

  #closed(code: number, reason: string): void {
    if (this.#finished) return;
    const unsettled = [...this.#threads].filter(([, t]) => !t.settled).map(([n]) => `worker-${n}`);
    if (code === NORMAL_CLOSE && unsettled.length === 0) {
      this.#options.say("the run is over");
      return this.#end("completed");
    }
    const missing = unsettled.length > 0
      ? `; the final stats of ${
        unsettled.join(", ")
      } were not acknowledged and may be missing from its summary`
      : "";
    this.#end(
      new RunError(
        `Cannot go on: the connection to the coordinator closed (${code}${
          reason ? ` ${reason}` : ""
        })${missing}`,
      ),
    );
  }

  /** Ends every load worker, the timers and the connection, once. */
  #end(outcome: HostOutcome | RunError): void {
    if (this.#finished) return;
    this.#finished = true;
    for (const timer of this.#timers) clearInterval(timer);
    for (const thread of this.#threads.values()) thread.link.close();
    try {
      this.#socket.close(outcome === "completed" ? NORMAL_CLOSE : 1001, "the worker leaves");
    } catch {
      // Already closed.
    }
    this.#finish(outcome);
  }
}
