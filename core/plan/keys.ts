// Strict plans: a key the plan API does not know is a typo, and a typo that runs silently (1 user
// instead of 6) is worse than an error. The error names the closest known key.
import { PlanError } from "../errors.ts";

/** Edit distance between two short words (insertions, deletions, substitutions). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        previous[j] + 1,
        row[j - 1] + 1,
        previous[j - 1] + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1),
      );
    }
    previous = row;
  }
  return previous[b.length];
}

/** The known key `key` was most likely meant to be, or null when none is close. */
export function closestKey(key: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(key, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best !== null && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : null;
}

/**
 * Refuses any key of `object` that is not in `known`: `Cannot use plan: unknown key
 * "load.user"; did you mean "load.users"?` (`where` is the object's path, "" at the top).
 */
export function checkKnownKeys(object: object, known: readonly string[], where: string): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const path = (name: string) => where === "" ? name : `${where}.${name}`;
    const near = closestKey(key, known);
    throw new PlanError(
      `Cannot use plan: unknown key "${path(key)}"; ${
        near ? `did you mean "${path(near)}"?` : `known keys here: ${known.join(", ")}`
      }`,
    );
  }
}
