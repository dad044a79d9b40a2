// Which users run where: how many at each moment (a load profile: ramp.ts's callers), which
// kind each one is, and on which load worker it runs.

/** A user kind's share of the users: a weight, or a fixed number of users. */
export interface KindWeight {
  kind: string;
  weight: number;
  /** Exactly this many users of the kind (Locust's fixed_count), placed before weighted ones. */
  fixed?: number;
}

/** Who a user is in the whole run: the n-th user placed (0 … N-1) and the n-th of its kind. */
export interface UserIdentity {
  index: number;
  kindIndex: number;
}

/**
 * Places users on kinds and workers. Users of fixed-count kinds come first; after them, the n-th
 * user's kind comes from a smooth weighted round-robin, so every prefix of users (and so every
 * moment of a ramp) keeps the kinds' ratio. The users of each kind go to workers in turn (each
 * kind starting one worker further on), so every worker gets a fair share of every kind.
 *
 * The numbering is the run's user identity: the n-th user placed has index n and the k-th user
 * of a kind has kind index k, on whichever worker it runs (see {@link WorkerPlacement}).
 */
export class UserAllocator {
  readonly #kinds: KindWeight[];
  readonly #workers: number;
  readonly #sequence: number[] = [];
  /** Indices (into #kinds) of the weighted kinds, and the fixed users in placement order. */
  readonly #weighted: number[];
  readonly #fixed: number[] = [];
  readonly #credit: number[];
  readonly #weightSum: number;
  /** Per placed user, its index within its kind; per kind, the run-wide indices of its users. */
  readonly #kindIndices: number[] = [];
  readonly #indicesOfKind: number[][];
  /** Added to every user's run-wide index (open-model users are numbered before these). */
  readonly #firstIndex: number;

  constructor(kinds: readonly KindWeight[], workers: number, firstIndex = 0) {
    this.#firstIndex = firstIndex;
    this.#kinds = kinds.filter((k) => k.weight > 0 || (k.fixed ?? 0) > 0);
    this.#workers = Math.max(1, workers);
    this.#weighted = this.#kinds.flatMap((k, i) => k.fixed === undefined ? [i] : []);
    // Fixed kinds take turns, so a ramp through them starts some of each.
    const left = this.#kinds.map((k) => k.fixed ?? 0);
    while (left.some((n) => n > 0)) {
      left.forEach((n, i) => {
        if (n === 0) return;
        this.#fixed.push(i);
        left[i]--;
      });
    }
    this.#credit = this.#kinds.map(() => 0);
    this.#indicesOfKind = this.#kinds.map(() => []);
    this.#weightSum = this.#weighted.reduce((sum, k) => sum + this.#kinds[k].weight, 0);
  }

  #kindAt(index: number): number {
    if (index < this.#fixed.length) return this.#fixed[index];
    if (this.#weighted.length === 0) return this.#fixed[this.#fixed.length - 1];
    while (this.#sequence.length <= index - this.#fixed.length) {
      let best = this.#weighted[0];
      for (const k of this.#weighted) {
        this.#credit[k] += this.#kinds[k].weight;
        if (this.#credit[k] > this.#credit[best]) best = k;
      }
      this.#credit[best] -= this.#weightSum;
      this.#sequence.push(best);
    }
    return this.#sequence[index - this.#fixed.length];
  }

  /** Numbers users up to `index` within their kinds. */
  #number(index: number): void {
    for (let i = this.#kindIndices.length; i <= index; i++) {
      const of = this.#indicesOfKind[this.#kindAt(i)];
      this.#kindIndices.push(of.length);
      of.push(i);
    }
  }

  /** The worker (0-based) of the n-th user. */
  #workerOf(index: number): number {
    this.#number(index);
    return (this.#kindIndices[index] + this.#kindAt(index)) % this.#workers;
  }

  /** The most users the plan can place: the fixed ones only, when no kind has a weight. */
  get capacity(): number {
    return this.#weighted.length > 0 ? Infinity : this.#fixed.length;
  }

  /**
   * Users per kind on each worker when `total` users run. With `live` (one flag per worker),
   * users go to live workers only: each user stays on its worker while that one lives, and the
   * users of the others are dealt in turn to the live ones, so a lost worker's users move and
   * nobody else's do.
   */
  allocate(total: number, live?: readonly boolean[]): Record<string, number>[] {
    const perWorker = Array.from({ length: this.#workers }, () => {
      const counts: Record<string, number> = {};
      for (const k of this.#kinds) counts[k.kind] = 0;
      return counts;
    });
    const liveIndices = perWorker.flatMap((_, i) => live?.[i] === false ? [] : [i]);
    if (liveIndices.length === 0) return perWorker;
    let moved = 0;
    for (let i = 0; i < Math.min(total, this.capacity); i++) {
      const home = this.#workerOf(i);
      const at = live?.[home] === false ? liveIndices[moved++ % liveIndices.length] : home;
      perWorker[at][this.#kinds[this.#kindAt(i)].kind]++;
    }
    return perWorker;
  }

  /** Users per kind over all workers when `total` users run. */
  totals(total: number): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const k of this.#kinds) counts[k.kind] = 0;
    for (let i = 0; i < Math.min(total, this.capacity); i++) {
      counts[this.#kinds[this.#kindAt(i)].kind]++;
    }
    return counts;
  }

  /**
   * The identity of `worker`'s `slot`-th user of `kind` (both 0-based): the users that
   * {@link allocate} counts there are its first ones. Null when the plan places no such user.
   */
  identity(kind: string, worker: number, slot: number): UserIdentity | null {
    const k = this.#kinds.findIndex((x) => x.kind === kind);
    if (k < 0) return null;
    // The kind's users go to workers in turn, starting at worker k % workers.
    const kindIndex = ((worker - k) % this.#workers + this.#workers) % this.#workers +
      slot * this.#workers;
    const fixed = this.#kinds[k].fixed;
    if (fixed !== undefined && kindIndex >= fixed) return null;
    const of = this.#indicesOfKind[k];
    while (of.length <= kindIndex) this.#number(this.#kindIndices.length);
    return { index: this.#firstIndex + of[kindIndex], kindIndex };
  }
}

/** How many users should run `elapsedMs` into a ramp to `users` at `spawnRate` users/s. */
export function rampTarget(elapsedMs: number, users: number, spawnRate: number): number {
  if (users <= 0) return 0;
  if (!(spawnRate > 0) || spawnRate === Infinity) return users;
  return Math.min(users, Math.max(1, Math.ceil((spawnRate * elapsedMs) / 1000)));
}

/** How many users should run at each moment of a run. */
export interface LoadProfile {
  /** Users that should run `elapsedMs` into the run; null when the profile is over. */
  usersAt(elapsedMs: number): number | null;
  /** The most users the profile asks for, when it is known in advance. */
  readonly peak: number | null;
  /** The stage (1, 2, …) at `elapsedMs`, for profiles made of stages. */
  stageAt?(elapsedMs: number): { stage: number; users: number; durationMs: number } | null;
  /** A run whose users all ended by themselves is over (a plain ramp; not stages or shapes). */
  readonly endsWithItsUsers: boolean;
}

/** What one step of a {@link UserSchedule} changes. */
export interface ScheduleStep {
  /** Users per kind on each worker, when the target changed (or on the first step). */
  perWorker: Record<string, number>[] | null;
  /** The profile is over: the run should stop. */
  over: boolean;
}

/** A load profile placed on kinds and workers, step by step. */
export class UserSchedule {
  readonly #allocator: UserAllocator;
  readonly profile: LoadProfile;
  #target = 0;
  #peak = 0;
  #started = false;
  #reachedFirstTarget = false;
  /** Which workers may get users (all while none was lost), and whether that changed. */
  #live: boolean[] | undefined;
  #liveChanged = false;

  constructor(kinds: readonly KindWeight[], workers: number, profile: LoadProfile) {
    this.#allocator = new UserAllocator(kinds, workers);
    this.profile = profile;
  }

  /** Users that should run now (the last step's target). */
  get target(): number {
    return this.#target;
  }

  /** The most users any step asked for. */
  get peak(): number {
    return this.#peak;
  }

  /**
   * Places users on the workers flagged live only, from the next step on: a worker that failed
   * or was lost gets none, its users go to the others.
   */
  setLive(live: readonly boolean[]): void {
    this.#live = [...live];
    this.#liveChanged = true;
  }

  /**
   * Moves the schedule to `elapsedMs`. `firstTargetReached` turns true once, on the step that
   * first reaches the profile's peak (or, without a known peak, its first steady target).
   */
  step(elapsedMs: number): ScheduleStep & { firstTargetReached: boolean } {
    const wanted = this.profile.usersAt(elapsedMs);
    if (wanted === null) return { perWorker: null, over: true, firstTargetReached: false };
    const next = Math.min(wanted, this.#allocator.capacity);
    const changed = !this.#started || next !== this.#target;
    const reallocate = changed || this.#liveChanged;
    this.#liveChanged = false;
    const previous = this.#target;
    this.#started = true;
    this.#target = next;
    this.#peak = Math.max(this.#peak, next);
    let firstTargetReached = false;
    if (!this.#reachedFirstTarget) {
      const peak = this.profile.peak;
      const reached = peak !== null
        ? next >= Math.min(peak, this.#allocator.capacity)
        : !changed && previous === next;
      if (reached) firstTargetReached = this.#reachedFirstTarget = true;
    }
    return {
      perWorker: reallocate ? this.#allocator.allocate(next, this.#live) : null,
      over: false,
      firstTargetReached,
    };
  }

  /** Users per kind at the current target. */
  usersByKind(): Record<string, number> {
    return this.#allocator.totals(this.#target);
  }

  /** Users per kind at the peak. */
  peakByKind(): Record<string, number> {
    return this.#allocator.totals(this.#peak);
  }
}
