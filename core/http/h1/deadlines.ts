// The request deadlines of one h1 engine (a load worker): one timer for every busy connection of
// every user, armed at the earliest deadline it knows. A request adds its connection and removes
// it: no timer per request or per user, and the timer is re-armed only when it fires (requests
// are mostly far shorter than their timeout, so that is about once a timeout).
import type { H1Connection } from "./connection.ts";

/** Closes busy connections whose request is past its deadline, marking them timed out. */
export class Deadlines {
  /** The busy connections; each knows its index here (`watchIndex`), for an O(1) removal. */
  readonly #busy: H1Connection[] = [];
  #timer: number | null = null;
  /** When the timer fires; Infinity when it is not armed. */
  #timerAtMs = Infinity;
  readonly #nowMs: () => number;

  /** `nowMs`: the clock (`performance.now`, a fake one in tests). */
  constructor(nowMs: () => number = () => performance.now()) {
    this.#nowMs = nowMs;
  }

  /** Starts watching `conn`'s request, due at `deadlineMs` (`performance.now()` time). */
  watch(conn: H1Connection, deadlineMs: number): void {
    conn.deadlineMs = deadlineMs;
    conn.timedOut = false;
    const busy = this.#busy;
    if (conn.watchIndex < 0) conn.watchIndex = busy.push(conn) - 1;
    if (deadlineMs < this.#timerAtMs) {
      this.#arm(deadlineMs);
    } else if (busy.length === 1) {
      // A request in flight keeps the process alive; an idle engine does not.
      Deno.refTimer(this.#timer!);
    }
  }

  /** Stops watching `conn` (its request is over, or it was closed). */
  unwatch(conn: H1Connection): void {
    const at = conn.watchIndex;
    if (at < 0) return;
    const busy = this.#busy;
    const last = busy.pop()!;
    if (last !== conn) {
      busy[at] = last;
      last.watchIndex = at;
    }
    conn.watchIndex = -1;
    if (busy.length === 0 && this.#timer !== null) Deno.unrefTimer(this.#timer);
  }

  #arm(atMs: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timerAtMs = atMs;
    // Deno's timer id is a number (the node typings in scope say otherwise).
    this.#timer = setTimeout(
      this.#expire,
      Math.max(0, atMs - this.#nowMs()),
    ) as unknown as number;
    if (this.#busy.length === 0) Deno.unrefTimer(this.#timer);
  }

  readonly #expire = (): void => {
    this.#timer = null;
    this.#timerAtMs = Infinity;
    const nowMs = this.#nowMs();
    let next = Infinity;
    for (const conn of [...this.#busy]) {
      if (conn.deadlineMs <= nowMs) {
        conn.timedOut = true;
        this.unwatch(conn);
        conn.close();
      } else if (conn.deadlineMs < next) {
        next = conn.deadlineMs;
      }
    }
    if (next < Infinity) this.#arm(next);
  };
}
