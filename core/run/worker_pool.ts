// The coordinator's view of its load workers: which are starting, running, done or lost, what
// users each was given and runs, and where their messages go. It knows workers only through a
// WorkerTransport, so where a worker runs (a Web Worker, a remote host) is not its concern.
import { getLogger } from "npm:@logtape/logtape@2.4.2";
import { formatDuration } from "../duration.ts";
import { RunError } from "../errors.ts";
import type { RecorderSet } from "../recorder/recorder_set.ts";
import type { StatsDelta } from "../stats/delta.ts";
import type { FromWorker, ToWorker, WorkerSystemReadings, WorkerUsers } from "./protocol.ts";
import { ABORTED, setLongTimeout, settleWithin } from "../timers.ts";
import type { WorkerLink, WorkerTransport } from "./worker_transport.ts";

/** What the pool reports to the coordinator. */
export interface WorkerPoolEvents {
  /** A worker's stats delta: one per interval, and its last one at the stop. */
  stats(delta: StatsDelta, source: string, system: WorkerSystemReadings | undefined): void;
  /** A worker reported its users (with each interval's stats). */
  users?(): void;
  /** The last live worker failed: nothing generates load any more. */
  allFailed?(): void;
  /** A running worker failed or was lost while others live on: its users should move. */
  liveChanged?(): void;
  /** A system sample of a process that runs workers (a worker process on another machine). */
  sample?(source: string, readings: WorkerSystemReadings): void;
}

/** The init message without the worker id, which the pool fills in. */
export type WorkerInit = Omit<Extract<ToWorker, { type: "init" }>, "type" | "workerId">;

type WorkerState = "starting" | "running" | "stopped" | "failed";

interface PooledWorker {
  readonly id: number;
  readonly source: string;
  link: WorkerLink | null;
  state: WorkerState;
  /** Users per kind last assigned, and its JSON form to skip repeats. */
  assigned: Record<string, number>;
  assignedKey: string;
  /** Users as the worker last reported them. */
  reported: WorkerUsers;
  /** When it last sent anything (performance.now() ms). */
  lastHeardMs: number;
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** A run's load workers, from start to stop. */
export class WorkerPool {
  readonly #transport: WorkerTransport;
  readonly #workers: PooledWorker[] = [];
  readonly #recorders: RecorderSet;
  readonly #events: WorkerPoolEvents;
  readonly #log = getLogger(["stampede", "workers"]);
  readonly #warningsSaid = new Set<string>();
  /** Why workers failed or went silent, one line each (`worker-2: ...`). */
  readonly failures: string[] = [];
  /** Worker processes lost (their every worker), one line each (`host-a: ...`). */
  readonly lost: string[] = [];
  readonly #lostHosts = new Set<string>();
  /** Settles the start (every worker ready) or the stop (every worker done). */
  #onSettled: (() => void) | null = null;
  #onStartFailure: ((line: string) => void) | null = null;

  constructor(
    transport: WorkerTransport,
    count: number,
    recorders: RecorderSet,
    events: WorkerPoolEvents,
  ) {
    this.#transport = transport;
    this.#recorders = recorders;
    this.#events = events;
    for (let id = 1; id <= count; id++) {
      this.#workers.push({
        id,
        source: transport.sourceOf?.(id) ?? `worker-${id}`,
        link: null,
        state: "starting",
        assigned: {},
        assignedKey: "{}",
        reported: { active: {}, started: 0 },
        lastHeardMs: performance.now(),
      });
    }
  }

  /** Workers that have not failed. */
  get live(): number {
    return this.#workers.filter((w) => w.state !== "failed").length;
  }

  /** For each worker (by id - 1), whether it has not failed or been lost. */
  liveFlags(): boolean[] {
    return this.#workers.map((w) => w.state !== "failed");
  }

  /**
   * Opens every worker, sends it `init` and waits until all have loaded the plan: true when they
   * have, false when `signal` aborted first (the pool is then closed). A worker that fails, or
   * none ready within `loadTimeoutMs`, throws a {@link RunError} (the pool is closed).
   */
  async start(init: WorkerInit, loadTimeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    let ready: boolean;
    try {
      const allReady = new Promise<void>((resolve, reject) => {
        this.#onSettled = resolve;
        this.#onStartFailure = (line) => reject(new RunError(`Cannot start load worker ${line}`));
        for (const w of this.#workers) {
          w.link = this.#transport.open(w.id, {
            message: (message) => this.#receive(w, message),
            error: (message) => this.#fail(w, message),
            lost: (host, message) => this.#lose(w, host, message),
            sample: (source, readings) => {
              if (w.state !== "failed") this.#events.sample?.(source, readings);
            },
          });
        }
        for (const w of this.#workers) {
          w.link?.post({ type: "init", workerId: w.id, ...init });
        }
      });
      const outcome = await settleWithin(
        allReady,
        loadTimeoutMs,
        () =>
          new RunError(
            `Cannot start load workers: the plan did not load in every worker within ${
              formatDuration(loadTimeoutMs)
            }; raise --load-timeout if it needs longer`,
          ),
        signal,
      );
      ready = outcome !== ABORTED;
    } catch (error) {
      this.close();
      throw error;
    } finally {
      this.#onSettled = null;
      this.#onStartFailure = null;
    }
    if (!ready) this.close();
    return ready;
  }

  /** Gives worker i the users per kind in `perWorker[i]`; unchanged counts are not resent. */
  assign(perWorker: Record<string, number>[]): void {
    for (const w of this.#workers) {
      const counts = perWorker[w.id - 1];
      const key = JSON.stringify(counts);
      if (w.state !== "running" || key === w.assignedKey) continue;
      w.assigned = counts;
      w.assignedKey = key;
      w.link?.post({ type: "users", counts });
    }
  }

  /** Tells every running worker the run has started, at `epochMs` (`Date.now()` time). */
  begin(epochMs: number): void {
    for (const w of this.#workers) {
      if (w.state === "running") w.link?.post({ type: "begin", epochMs });
    }
  }

  /** Running users by kind, as the live workers last reported them. */
  usersByKind(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const w of this.#workers) {
      if (w.state === "failed") continue;
      for (const [kind, n] of Object.entries(w.reported.active)) {
        counts[kind] = (counts[kind] ?? 0) + n;
      }
    }
    return counts;
  }

  /** Every user the live workers were given has started and ended by itself. */
  usersDone(): boolean {
    let started = 0, planned = 0, active = 0;
    for (const w of this.#workers) {
      if (w.state === "failed") continue;
      started += w.reported.started;
      planned += sum(w.assigned);
      active += sum(w.reported.active);
    }
    return started >= planned && active === 0;
  }

  /**
   * Gives up on running workers that have sent nothing for `silentMs`: they are lost. Workers of
   * a transport that watches their liveness itself (heartbeats) are left to it.
   */
  checkSilent(silentMs: number): void {
    if (this.#transport.watchesLiveness) return;
    const nowMs = performance.now();
    for (const w of this.#workers) {
      const quietMs = nowMs - w.lastHeardMs;
      if (w.state === "running" && quietMs > silentMs) {
        this.#fail(w, `sent nothing for ${(quietMs / 1000).toFixed(1)} s; it is lost`);
      }
    }
  }

  /**
   * Stops every worker: running tasks get `timeoutMs`, then each worker sends its last delta.
   * Waits at most `timeoutMs + graceMs`; a worker that sends nothing by then is failed (its last
   * interval is lost, never counted twice). Aborting `cutOff` cuts running tasks off at once.
   */
  async stop(timeoutMs: number, graceMs: number, cutOff?: AbortSignal): Promise<void> {
    const running = () => this.#workers.filter((w) => w.state === "running");
    const allStopped = new Promise<void>((resolve) => this.#onSettled = resolve);
    for (const w of running()) w.link?.post({ type: "stop", timeoutMs });
    const cutNow = () => {
      this.#log.warn("Cutting off running tasks now");
      for (const w of running()) w.link?.post({ type: "stop", timeoutMs: 0 });
    };
    if (cutOff?.aborted) cutNow();
    else cutOff?.addEventListener("abort", cutNow, { once: true });
    this.#checkStopped();
    let cancel = () => {};
    await Promise.race([
      allStopped,
      new Promise<void>((resolve) => cancel = setLongTimeout(resolve, timeoutMs + graceMs)),
    ]);
    cancel();
    cutOff?.removeEventListener("abort", cutNow);
    this.#onSettled = null;
    for (const w of running()) {
      this.#fail(w, "sent no final stats in time; its last interval is lost");
    }
    this.close();
  }

  /** Ends every worker; nothing they send afterwards is read. */
  close(): void {
    for (const w of this.#workers) {
      w.link?.close();
      w.link = null;
    }
  }

  #receive(w: PooledWorker, message: FromWorker): void {
    // A worker given up for lost stays lost: late stats would count twice or out of order.
    if (w.state === "failed") return;
    w.lastHeardMs = performance.now();
    switch (message.type) {
      case "ready":
        w.state = "running";
        this.#recorders.event("worker_started", w.source, {});
        if (this.#workers.every((x) => x.state === "running")) this.#onSettled?.();
        return;
      case "stats":
      case "stopped":
        if (w.state === "stopped") return;
        this.#events.stats(message.delta, w.source, message.system);
        w.reported = message.users;
        if (message.type === "stats") return this.#events.users?.();
        // The last delta: the worker has ended every user and sends nothing more.
        w.state = "stopped";
        this.#recorders.event("worker_stopped", w.source, {});
        return this.#checkStopped();
      case "warning":
        // Every worker runs the same plan: a warning all of them give is said once.
        if (this.#warningsSaid.has(message.message)) return;
        this.#warningsSaid.add(message.message);
        this.#log.warn("{source}: {message}", { source: w.source, message: message.message });
        return;
      case "failed":
        return this.#fail(w, message.message);
      default: {
        const unknown: never = message;
        this.#log.error("Unknown message from {source}: {message}", {
          source: w.source,
          message: JSON.stringify(unknown),
        });
      }
    }
  }

  #fail(w: PooledWorker, message: string): void {
    if (w.state === "failed") return;
    const starting = w.state === "starting";
    w.state = "failed";
    w.link?.close();
    w.link = null;
    const line = `${w.source}: ${message}`;
    this.failures.push(line);
    this.#log.error("Load worker failed: {line}", { line });
    if (starting && this.#onStartFailure) return this.#onStartFailure(line);
    this.#recorders.event("worker_failed", w.source, { message });
    this.#afterLoss();
  }

  /**
   * A worker's process is gone: the worker is lost with its last delivered stats kept (anything
   * it sends later is ignored). The process is said lost once, however many workers it ran.
   */
  #lose(w: PooledWorker, host: string, message: string): void {
    if (w.state === "failed" || w.state === "stopped") return;
    const starting = w.state === "starting";
    w.state = "failed";
    w.link?.close();
    w.link = null;
    if (this.#lostHosts.has(host)) {
      if (!starting) this.#afterLoss();
      return;
    }
    this.#lostHosts.add(host);
    const line = `${host}: ${message}`;
    this.lost.push(line);
    if (starting && this.#onStartFailure) return this.#onStartFailure(line);
    this.#log.error("Worker {host} lost: {message}; its users move to the live workers", {
      host,
      message,
    });
    this.#recorders.event("worker_lost", host, { message });
    this.#afterLoss();
  }

  #afterLoss(): void {
    this.#checkStopped();
    if (this.live === 0) this.#events.allFailed?.();
    else this.#events.liveChanged?.();
  }

  /** Settles a waiting stop once no worker is still running. */
  #checkStopped(): void {
    if (this.#workers.every((w) => w.state !== "running" && w.state !== "starting")) {
      this.#onSettled?.();
    }
  }
}
