// Load workers on other machines: each load worker (Web Worker) of each joined worker process is
// one worker of the coordinator's pool, so users spread over every thread of every machine. Their
// messages travel over their process's one WebSocket. The plan goes to each process once, with a
// content hash; the final stats of each load worker are acknowledged once merged; a process that
// is gone loses all its load workers at once.
import type { SharedTable } from "./data_table.ts";
import { sealPlan } from "./plan_package.ts";
import type { FromHost, ToWorker } from "./protocol.ts";
import type { RemoteHost } from "./remote_host.ts";
import type { WorkerEvents, WorkerLink, WorkerTransport } from "./worker_transport.ts";

/** One load worker of a worker process, as a worker of the pool. */
interface Slot {
  readonly host: RemoteHost;
  /** Its number within its process (1, 2, …). */
  readonly index: number;
  events: WorkerEvents | null;
  open: boolean;
}

/** What every worker process gets: the bundled plan and the data tables read on the coordinator. */
export interface RemotePlan {
  code: string;
  data: readonly SharedTable[];
}

/**
 * Orders the load workers of `hosts` one of each process in turn (a1, b1, c1, a2, …): the pool
 * places users on workers in order, so a run with fewer users than load workers still spreads
 * them over the machines.
 */
function interleave(hosts: readonly RemoteHost[]): Slot[] {
  const slots: Slot[] = [];
  const most = Math.max(0, ...hosts.map((h) => h.workers));
  for (let index = 1; index <= most; index++) {
    for (const host of hosts) {
      if (index <= host.workers) slots.push({ host, index, events: null, open: false });
    }
  }
  return slots;
}

/** The transport of a distributed run, over the worker processes that joined. */
export class RemoteTransport implements WorkerTransport {
  readonly watchesLiveness = true;
  readonly #slots: Slot[];
  readonly #plan: RemotePlan;
  /** The hash of the plan each process got. */
  readonly #sent = new Map<RemoteHost, string>();

  constructor(hosts: readonly RemoteHost[], plan: RemotePlan) {
    this.#slots = interleave(hosts);
    this.#plan = plan;
    for (const host of hosts) {
      host.attach({
        message: (message) => this.#receive(host, message),
        gone: (why) => this.#lost(host, why),
      });
    }
  }

  /** Load workers over every process: the most workers the pool may open. */
  get workers(): number {
    return this.#slots.length;
  }

  sourceOf(workerId: number): string {
    const slot = this.#slots[workerId - 1];
    return `${slot.host.name}/worker-${slot.index}`;
  }

  open(workerId: number, events: WorkerEvents): WorkerLink {
    const slot = this.#slots[workerId - 1];
    slot.events = events;
    slot.open = true;
    return {
      post: (message) => {
        if (slot.open) this.#post(slot, message);
      },
      close: () => this.#close(slot),
    };
  }

  #post(slot: Slot, message: ToWorker): void {
    const { host, index } = slot;
    if (message.type !== "init") return host.send({ type: "thread", worker: index, message });
    const planHash = this.#planFor(host);
    // The code and data came once for the whole process, in its plan message; shared memory
    // cannot travel, so an iteration limit goes as this process's share of it.
    const { planCode: _code, data: _data, iterations, ...init } = message;
    host.send({
      type: "thread",
      worker: index,
      message: { ...init, data: [], iterations: null },
      planHash,
      ...(iterations === null ? {} : { iterationShare: this.#shareOf(host, iterations) }),
    });
  }

  /** `host`'s share of the iteration limit in `buffer`: by its load workers, the rest to the first. */
  #shareOf(host: RemoteHost, buffer: SharedArrayBuffer): number {
    const limit = new Int32Array(buffer)[0];
    const opened = this.#slots.filter((s) => s.events);
    const hosts = [...new Set(opened.map((s) => s.host))];
    const shares = hosts.map((h) =>
      Math.floor((limit * opened.filter((s) => s.host === h).length) / opened.length)
    );
    shares[0] += limit - shares.reduce((a, b) => a + b, 0);
    return shares[hosts.indexOf(host)] ?? 0;
  }

  /**
   * Sends `host` its plan, once: the code and its share of the data. The pool opens all its
   * workers before it sends any init, so the load workers of the run are known by now.
   */
  #planFor(host: RemoteHost): string {
    const sent = this.#sent.get(host);
    if (sent !== undefined) return sent;
    const opened = this.#slots.flatMap((s, i) => s.events ? [i + 1] : []);
    const mine = this.#slots.flatMap((s, i) => s.events && s.host === host ? [i + 1] : []);
    const { text, hash } = sealPlan(this.#plan.code, this.#plan.data, opened.length, mine);
    host.send({ type: "plan", hash, plan: text });
    this.#sent.set(host, hash);
    return hash;
  }

  #close(slot: Slot): void {
    if (!slot.open) return;
    slot.open = false;
    slot.host.send({ type: "close", worker: slot.index });
    if (!this.#slots.some((s) => s.host === slot.host && s.open)) slot.host.end();
  }

  #receive(host: RemoteHost, message: FromHost): void {
    switch (message.type) {
      case "thread": {
        const slot = this.#slots.find((s) => s.host === host && s.index === message.worker);
        if (!slot?.open || !slot.events) return;
        slot.events.message(message.message);
        // The pool merged it as it was delivered: it can no longer be lost.
        if (message.message.type === "stopped") host.send({ type: "ack", worker: slot.index });
        return;
      }
      case "sample": {
        const slot = this.#slots.find((s) => s.host === host && s.open);
        return slot?.events?.sample?.(host.name, message.readings);
      }
      case "refused":
        for (const slot of this.#slots) {
          if (slot.host === host && slot.open) {
            slot.events?.error(`${host.name}: ${message.reason}`);
          }
        }
        return;
      case "hello":
      case "heartbeat":
        return;
      default: {
        const unknown: never = message;
        host.lose(`it sent an unknown message: ${JSON.stringify(unknown).slice(0, 100)}`);
      }
    }
  }

  #lost(host: RemoteHost, why: string): void {
    for (const slot of this.#slots) {
      if (slot.host !== host || !slot.open) continue;
      slot.open = false;
      if (slot.events?.lost) slot.events.lost(host.name, why);
      else slot.events?.error(`${host.name} is lost: ${why}`);
    }
  }
}
