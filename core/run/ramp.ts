// Ramping users up: how many should run at each moment (spawn rate), which kind each one is,
// and on which load worker it runs.

/** A user kind's share of the users. */
export interface KindWeight {
  kind: string;
  weight: number;
}

/**
 * Places users on kinds and workers. The n-th user's kind comes from a smooth weighted
 * round-robin, so every prefix of users (and so every moment of a ramp) keeps the kinds' ratio;
 * users go to workers in turn, so each worker gets a fair share of each kind.
 */
export class UserAllocator {
  readonly #kinds: KindWeight[];
  readonly #workers: number;
  readonly #sequence: number[] = [];
  readonly #credit: number[];
  readonly #weightSum: number;

  constructor(kinds: readonly KindWeight[], workers: number) {
    this.#kinds = kinds.filter((k) => k.weight > 0);
    this.#workers = Math.max(1, workers);
    this.#credit = this.#kinds.map(() => 0);
    this.#weightSum = this.#kinds.reduce((sum, k) => sum + k.weight, 0);
  }

  #kindAt(index: number): number {
    while (this.#sequence.length <= index) {
      let best = 0;
      for (let k = 0; k < this.#kinds.length; k++) {
        this.#credit[k] += this.#kinds[k].weight;
        if (this.#credit[k] > this.#credit[best]) best = k;
      }
      this.#credit[best] -= this.#weightSum;
      this.#sequence.push(best);
    }
    return this.#sequence[index];
  }

  /** Users per kind on each worker when `total` users run. */
  allocate(total: number): Record<string, number>[] {
    const perWorker = Array.from({ length: this.#workers }, () => {
      const counts: Record<string, number> = {};
      for (const k of this.#kinds) counts[k.kind] = 0;
      return counts;
    });
    for (let i = 0; i < total; i++) {
      perWorker[i % this.#workers][this.#kinds[this.#kindAt(i)].kind]++;
    }
    return perWorker;
  }

  /** Users per kind over all workers when `total` users run. */
  totals(total: number): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const k of this.#kinds) counts[k.kind] = 0;
    for (let i = 0; i < total; i++) counts[this.#kinds[this.#kindAt(i)].kind]++;
    return counts;
  }
}

/** How many users should run `elapsedMs` into a ramp to `users` at `spawnRate` users/s. */
export function rampTarget(elapsedMs: number, users: number, spawnRate: number): number {
  if (users <= 0) return 0;
  if (!(spawnRate > 0) || spawnRate === Infinity) return users;
  return Math.min(users, Math.max(1, Math.ceil((spawnRate * elapsedMs) / 1000)));
}

/** A ramp from 0 to `users` at `spawnRate` users/s, spread over the workers by kind. */
export class UserRamp {
  readonly #allocator: UserAllocator;
  #target = 0;
  #started = false;

  constructor(
    kinds: readonly KindWeight[],
    workers: number,
    readonly users: number,
    readonly spawnRate: number,
  ) {
    this.#allocator = new UserAllocator(kinds, workers);
  }

  /** Users that should run now (the last step's target). */
  get target(): number {
    return this.#target;
  }

  /** Every planned user has been placed. */
  get complete(): boolean {
    return this.#started && this.#target >= this.users;
  }

  /**
   * Moves the ramp to `elapsedMs`: the users per kind on each worker when the target changed
   * (or on the first step), else null.
   */
  step(elapsedMs: number): Record<string, number>[] | null {
    const next = rampTarget(elapsedMs, this.users, this.spawnRate);
    if (this.#started && next === this.#target) return null;
    this.#started = true;
    this.#target = next;
    return this.#allocator.allocate(next);
  }

  /** Users per kind at the current target. */
  usersByKind(): Record<string, number> {
    return this.#allocator.totals(this.#target);
  }
}
