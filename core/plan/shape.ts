// A load shape's answers, checked the same way when the plan is defined and every second of the
// run: whole users >= 0 and a spawn rate > 0, or null to end the run.

/** A shape's answer, checked: whole users >= 0 and a spawn rate > 0. */
export function checkTick(value: unknown): { users: number; spawnRate: number } | null {
  if (value === null) return null;
  const tick = value as { users?: unknown; spawnRate?: unknown };
  if (typeof value !== "object" || !Number.isInteger(tick.users) || (tick.users as number) < 0) {
    throw new TypeError(
      `the shape returned ${
        JSON.stringify(value)
      }; it must return { users, spawnRate } with whole users >= 0, or null`,
    );
  }
  const spawnRate = tick.spawnRate ?? Infinity;
  if (typeof spawnRate !== "number" || !(spawnRate > 0)) {
    throw new TypeError(`the shape returned spawnRate ${tick.spawnRate}; it must be a number > 0`);
  }
  return { users: tick.users as number, spawnRate };
}
