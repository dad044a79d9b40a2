// A load worker's share of one open-model kind: starts each iteration it owns when it is due,
// on a free user of its pool, whatever the target's speed. An iteration whose user is not free
// within the kind's lateness bound is dropped and counted; with 0 it is dropped at once (k6),
// with more it starts late and its corrected latency says how late (wrk2).
import { ArrivalSchedule, OwnedIterations } from "./arrival_schedule.ts";
import type { ArrivalKind } from "./arrivals.ts";

/** A user of the pool, as the executor drives it. */
export interface PoolUser {
  /**
   * Runs one iteration that was due at `dueMs` (`performance.now()` time); settles after it,
   * false when the user cannot run another (it threw StopUser, or was stopped).
   */
  iterate(dueMs: number): Promise<boolean>;
}

/** What an {@link ArrivalExecutor} works with. */
export interface ArrivalExecutorOptions {
  kind: ArrivalKind;
  /** This worker's place (0-based) among `workers`. */
  worker: number;
  workers: number;
  /**
   * Creates this worker's pool user in pool slot `slot` (run-wide, 0 … maxUsers-1), ready to
   * iterate (its onStart done); null when it could not start.
   */
  createUser(slot: number): Promise<PoolUser | null>;
  /** Takes one iteration from the run's iteration limit; false when none is left. */
  take?(): boolean;
  started(): void;
  dropped(count: number): void;
  /** The iteration limit ran out and every iteration started has ended. */
  exhausted?(): void;
  now?(): number;
}

/** Runs one worker's share of one open-model kind's iterations. */
export class ArrivalExecutor {
  readonly #o: ArrivalExecutorOptions;
  readonly #schedule: ArrivalSchedule;
  readonly #owned: OwnedIterations;
  readonly #now: () => number;
  readonly #free: PoolUser[] = [];
  /** Pool slots this worker may still grow into, past its pre-allocated ones. */
  readonly #growth: number[] = [];
  /** Due times (ms from the origin) of iterations waiting for a user, oldest first. */
  #pending: number[] = [];
  #head = 0;
  #next: number | null = null;
  #originMs = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = 0;
  #growing = 0;
  #due = 0;
  #state: "idle" | "running" | "exhausted" | "stopped" = "idle";

  constructor(options: ArrivalExecutorOptions) {
    this.#o = options;
    const { kind, worker, workers } = options;
    this.#schedule = new ArrivalSchedule(kind.stages, kind.endless);
    this.#owned = new OwnedIterations(kind.pool, workers, worker);
    this.#now = options.now ?? (() => performance.now());
    for (let s = worker; s < kind.maxUsers; s += workers) if (s >= kind.pool) this.#growth.push(s);
  }

  /** Starts the pre-allocated users of this worker's pool slots; resolves when they are ready. */
  async prepare(): Promise<void> {
    const { kind, worker, workers } = this.#o;
    const slots: number[] = [];
    for (let s = worker; s < kind.pool; s += workers) slots.push(s);
    const users = await Promise.all(slots.map((s) => this.#o.createUser(s)));
    for (const user of users) if (user !== null) this.#free.push(user);
  }

  /** Iterations that came due so far: each was started, dropped, or waits. */
  get due(): number {
    return this.#due;
  }

  /** Users this worker's pool has now. */
  get users(): number {
    return this.#free.length + this.#running;
  }

  /** Starts the schedule; `originMs` is the run's start as `performance.now()` time. */
  begin(originMs: number): void {
    if (this.#state !== "idle") return;
    this.#state = "running";
    this.#originMs = originMs;
    this.#next = this.#dueOf(this.#owned.next());
    this.#tick();
  }

  /** Ends the schedule: iterations still waiting are dropped. Running ones go on. */
  stop(): void {
    if (this.#state === "stopped") return;
    const waiting = this.#pending.length - this.#head;
    if (this.#state === "running" && waiting > 0) this.#o.dropped(waiting);
    this.#state = "stopped";
    this.#pending = [];
    this.#head = 0;
    clearTimeout(this.#timer);
  }

  #dueOf(n: number | null): number | null {
    const due = n === null ? null : this.#schedule.timeOf(n);
    const until = this.#o.kind.untilMs ?? null;
    return due !== null && until !== null && due >= until ? null : due;
  }

  #tick(): void {
    this.#timer = undefined;
    if (this.#state !== "running") return;
    const now = this.#now() - this.#originMs;
    // Those that waited for a user past the lateness bound are dropped; then the iterations
    // that came due join the queue (a timer firing late is not a wait for a user).
    this.#dropExpired(now);
    while (this.#next !== null && this.#next <= now) {
      this.#due++;
      this.#pending.push(this.#next);
      this.#next = this.#dueOf(this.#owned.next());
    }
    this.#dispatch();
    this.#arm(now);
  }

  /** Drops the waiting iterations that have waited for a user longer than the bound. */
  #dropExpired(now: number): void {
    const lateness = this.#o.kind.maxLatenessMs;
    let late = 0;
    while (this.#head < this.#pending.length && now - this.#pending[this.#head] > lateness) {
      this.#head++;
      late++;
    }
    if (late > 0) this.#o.dropped(late);
  }

  /** Starts waiting iterations on free users; grows the pool when they wait for one. */
  #dispatch(): void {
    while (this.#state === "running" && this.#head < this.#pending.length) {
      const user = this.#free.pop();
      if (user === undefined) break;
      if (this.#o.take && !this.#o.take()) {
        this.#free.push(user);
        this.#exhaust();
        return;
      }
      this.#run(user, this.#pending[this.#head++]);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#pending.length) {
      this.#pending = this.#pending.slice(this.#head);
      this.#head = 0;
    }
    const waiting = this.#pending.length - this.#head - this.#growing;
    for (let i = 0; i < waiting && this.#growth.length > 0; i++) this.#grow(this.#growth.shift()!);
  }

  #run(user: PoolUser, due: number): void {
    this.#running++;
    this.#o.started();
    user.iterate(this.#originMs + due).then((goesOn) => {
      this.#running--;
      if (goesOn) this.#free.push(user);
      if (this.#state === "running") {
        this.#dropExpired(this.#now() - this.#originMs);
        this.#dispatch();
      } else if (this.#state === "exhausted" && this.#running === 0) this.#o.exhausted?.();
    });
  }

  #grow(slot: number): void {
    this.#growing++;
    this.#o.createUser(slot).then((user) => {
      this.#growing--;
      if (user === null) return;
      this.#free.push(user);
      if (this.#state === "running") {
        this.#dropExpired(this.#now() - this.#originMs);
        this.#dispatch();
      }
    });
  }

  /** The iteration limit ran out: nothing more starts; waiting iterations are not dropped. */
  #exhaust(): void {
    this.#state = "exhausted";
    this.#pending = [];
    this.#head = 0;
    clearTimeout(this.#timer);
    if (this.#running === 0) this.#o.exhausted?.();
  }

  /** Sleeps until the next iteration is due or the oldest waiting one runs out of lateness. */
  #arm(now: number): void {
    if (this.#state !== "running") return;
    let wake = this.#next ?? Infinity;
    if (this.#head < this.#pending.length) {
      wake = Math.min(wake, this.#pending[this.#head] + this.#o.kind.maxLatenessMs + 1);
    }
    if (wake === Infinity) return;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, wake - now));
  }
}
