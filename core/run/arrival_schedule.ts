// When each iteration of an arrival-rate (open-model) kind is due: a rate profile made of stages
// in which the rate goes linearly from one value to the next, and the n-th iteration due when
// the integral of the rate reaches n. Pure arithmetic, the same on every worker, so the workers'
// shares add up to the configured schedule exactly.

/** One stage: the rate goes linearly from `from` to `to` iterations per second over `durationMs`. */
export interface RateStage {
  durationMs: number;
  from: number;
  to: number;
}

/** A rate profile: stages one after another; an endless one keeps the last rate for ever. */
export class ArrivalSchedule {
  readonly #stages: readonly RateStage[];
  /** Start (ms) and iterations due before each stage. */
  readonly #startMs: number[] = [];
  readonly #before: number[] = [];
  #hint = 0;
  /** When the profile ends (ms), or null when it is endless. */
  readonly endMs: number | null;

  constructor(stages: readonly RateStage[], endless: boolean) {
    if (stages.length === 0) throw new RangeError("an arrival schedule needs at least one stage");
    this.#stages = stages;
    let at = 0;
    let due = 0;
    for (const s of stages) {
      this.#startMs.push(at);
      this.#before.push(due);
      at += s.durationMs;
      due += ((s.from + s.to) / 2) * (s.durationMs / 1000);
    }
    this.endMs = endless ? null : at;
  }

  /** The configured rate (iterations per second) at `ms`; 0 past the end. */
  rateAt(ms: number): number {
    const i = this.#stageAt(ms);
    if (i < 0) return 0;
    const s = this.#stages[i];
    if (i === this.#stages.length - 1 && ms >= this.#startMs[i] + s.durationMs) return s.to;
    const f = s.durationMs === 0 ? 1 : (ms - this.#startMs[i]) / s.durationMs;
    return s.from + (s.to - s.from) * f;
  }

  /** Iterations due before `ms` (a real number: the integral of the rate from 0 to `ms`). */
  dueBefore(ms: number): number {
    const i = this.#stageAt(Math.max(0, ms));
    if (i < 0) return this.#total();
    const s = this.#stages[i];
    const tauS = (ms - this.#startMs[i]) / 1000;
    const lastAndBeyond = i === this.#stages.length - 1 && ms > this.#startMs[i] + s.durationMs;
    if (lastAndBeyond) {
      const stageS = s.durationMs / 1000;
      return this.#before[i] + ((s.from + s.to) / 2) * stageS + s.to * (tauS - stageS);
    }
    const slope = s.durationMs === 0 ? 0 : (s.to - s.from) / (s.durationMs / 1000);
    return this.#before[i] + s.from * tauS + (slope * tauS * tauS) / 2;
  }

  /** When iteration `n` (0-based) is due, in ms from the start; null when it never is. */
  timeOf(n: number): number | null {
    // Workers ask for increasing n: start the search at the stage of the last answer.
    for (let i = this.#hint; i < this.#stages.length; i++) {
      const s = this.#stages[i];
      const left = n - this.#before[i];
      if (left < 0) {
        this.#hint = 0;
        return this.timeOf(n);
      }
      const stageS = s.durationMs / 1000;
      if (left < ((s.from + s.to) / 2) * stageS) {
        this.#hint = i;
        return this.#startMs[i] + solveRamp(s.from, s.to, stageS, left) * 1000;
      }
    }
    const last = this.#stages[this.#stages.length - 1];
    if (this.endMs !== null || !(last.to > 0)) return null;
    // Past the stages of an endless profile, the last rate goes on.
    const stagesMs = this.#startMs[this.#stages.length - 1] + last.durationMs;
    return stagesMs + ((n - this.#total()) / last.to) * 1000;
  }

  #total(): number {
    const last = this.#stages.length - 1;
    const s = this.#stages[last];
    return this.#before[last] + ((s.from + s.to) / 2) * (s.durationMs / 1000);
  }

  /** The stage `ms` falls in (the last one for any later time); -1 past the end of a bounded one. */
  #stageAt(ms: number): number {
    if (this.endMs !== null && ms >= this.endMs) return -1;
    let i = this.#stages.length - 1;
    while (i > 0 && this.#startMs[i] > ms) i--;
    return i;
  }
}

/**
 * The time (s) into a stage at which `left` iterations are due, the rate going from `from` to `to`
 * over `stageS`: the root of `from·t + (to - from)·t² / (2·stageS) = left`, in the form that
 * stays exact when the ramp is flat.
 */
function solveRamp(from: number, to: number, stageS: number, left: number): number {
  if (left <= 0) return 0;
  const a = stageS === 0 ? 0 : (to - from) / (2 * stageS);
  const disc = Math.max(0, from * from + 4 * a * left);
  return (2 * left) / (from + Math.sqrt(disc));
}

/**
 * The iterations one worker owns: iteration n goes to the pool slot `n % pool`, and slot s to
 * worker `s % workers`, so each worker starts the share its pool users can serve, and the
 * workers' shares together are every iteration once.
 */
export class OwnedIterations {
  readonly #pool: number;
  readonly #slots: number[];
  #cycle = 0;
  #at = 0;

  /** `worker`: this worker's place (0-based) among `workers`. */
  constructor(pool: number, workers: number, worker: number) {
    this.#pool = pool;
    this.#slots = [];
    for (let s = worker; s < pool; s += workers) this.#slots.push(s);
  }

  /** How many pool slots this worker has (its pre-allocated users). */
  get slots(): number {
    return this.#slots.length;
  }

  /** The next iteration number this worker owns, in increasing order; null when it owns none. */
  next(): number | null {
    if (this.#slots.length === 0) return null;
    const n = this.#cycle * this.#pool + this.#slots[this.#at];
    if (++this.#at === this.#slots.length) {
      this.#at = 0;
      this.#cycle++;
    }
    return n;
  }
}
