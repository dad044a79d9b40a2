// Named checks (`ctx.check(name, cond)`, and the named form of a request's `check`): passes and
// fails counted per name, on each load worker per interval and on the coordinator for the run.
// Names are bounded like request names: past the limit they are counted under one name.

/** One named check: how often it held and how often not. */
export interface CheckResult {
  name: string;
  passes: number;
  fails: number;
}

/** Distinct check names kept; the rest are counted under {@link OTHER_CHECKS}. */
export const MAX_CHECK_NAMES = 1000;
/** Where checks past {@link MAX_CHECK_NAMES} names are counted. */
export const OTHER_CHECKS = "(other checks)";

/** Passes and fails per check name, in the order names were first seen. */
export class CheckCounts {
  readonly #byName = new Map<string, CheckResult>();
  #onLimit: (() => void) | null;

  /** `onLimit` is called once, when a name past the limit is first counted as the rest. */
  constructor(onLimit?: () => void) {
    this.#onLimit = onLimit ?? null;
  }

  #entry(name: string): CheckResult {
    let entry = this.#byName.get(name);
    if (entry !== undefined) return entry;
    if (this.#byName.size >= MAX_CHECK_NAMES && name !== OTHER_CHECKS) {
      this.#onLimit?.();
      this.#onLimit = null;
      return this.#entry(OTHER_CHECKS);
    }
    entry = { name, passes: 0, fails: 0 };
    this.#byName.set(name, entry);
    return entry;
  }

  /** Counts one evaluation of check `name`. */
  count(name: string, passed: boolean): void {
    const entry = this.#entry(name);
    if (passed) entry.passes++;
    else entry.fails++;
  }

  /** Adds counts taken elsewhere (a worker's delta). */
  add(results: readonly CheckResult[]): void {
    for (const r of results) {
      const entry = this.#entry(r.name);
      entry.passes += r.passes;
      entry.fails += r.fails;
    }
  }

  /** The counts so far, as plain data. */
  results(): CheckResult[] {
    return [...this.#byName.values()].map((r) => ({ ...r }));
  }

  /** The counts since the last call (names with none left out); the counts start again. */
  take(): CheckResult[] {
    const taken: CheckResult[] = [];
    for (const entry of this.#byName.values()) {
      if (entry.passes === 0 && entry.fails === 0) continue;
      taken.push({ ...entry });
      entry.passes = 0;
      entry.fails = 0;
    }
    return taken;
  }
}
