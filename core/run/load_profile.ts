// Load profiles of the closed model: how many users run at each moment. A ramp to a number of
// users at a spawn rate (the default), stages (linear ramps from one target to the next), or a
// shape (a function of elapsed time, asked once a second).
import { checkTick } from "../plan/shape.ts";
import type { ShapeTick } from "../plan/plan.ts";
import type { ArrivalKind } from "./arrivals.ts";
import { type LoadProfile, rampTarget } from "./ramp.ts";

/** A ramp from 0 to `users` at `spawnRate` users/s (Infinity: all at once), then steady. */
export function rampProfile(users: number, spawnRate: number): LoadProfile {
  return {
    usersAt: (elapsedMs) => rampTarget(elapsedMs, users, spawnRate),
    peak: users,
    endsWithItsUsers: true,
  };
}

/** One stage: a linear ramp from the users before it to `users` over `durationMs`. */
export interface Stage {
  durationMs: number;
  users: number;
}

/** Stages one after another, from 0 users; the profile is over after the last one. */
export function stagesProfile(stages: readonly Stage[]): LoadProfile {
  const stageAt = (elapsedMs: number) => {
    let startMs = 0;
    for (let i = 0; i < stages.length; i++) {
      const endMs = startMs + stages[i].durationMs;
      if (elapsedMs < endMs) return { index: i, startMs };
      startMs = endMs;
    }
    return null;
  };
  return {
    usersAt(elapsedMs) {
      const at = stageAt(elapsedMs);
      if (at === null) return null;
      const stage = stages[at.index];
      const from = at.index === 0 ? 0 : stages[at.index - 1].users;
      const done = stage.durationMs > 0 ? (elapsedMs - at.startMs) / stage.durationMs : 1;
      return Math.round(from + (stage.users - from) * done);
    },
    stageAt(elapsedMs) {
      const at = stageAt(elapsedMs);
      if (at === null) return null;
      return { stage: at.index + 1, ...stages[at.index] };
    },
    peak: Math.max(...stages.map((s) => s.users)),
    endsWithItsUsers: false,
  };
}

/** How often a shape is asked for its target. */
export const SHAPE_TICK_MS = 1000;

/**
 * A shape: `tick(elapsedS)` is asked once a second for `{ users, spawnRate }` (Locust's
 * LoadTestShape.tick()); between ticks the users move toward its target at its spawn rate
 * (default: at once). A tick of null ends the run. A tick that throws or returns nonsense throws.
 */
export function shapeProfile(tick: (elapsedS: number) => ShapeTick): LoadProfile {
  let askedAtMs = -Infinity;
  let fromUsers = 0;
  let current = 0;
  let goal: { users: number; spawnRate: number } | null = null;
  /** Where the users are `elapsedMs` in, moving from `fromUsers` toward the goal. */
  const position = (elapsedMs: number) => {
    if (goal === null) return current;
    if (goal.spawnRate === Infinity) return goal.users;
    const moved = goal.spawnRate * (elapsedMs - askedAtMs) / 1000;
    return goal.users >= fromUsers
      ? Math.min(goal.users, Math.round(fromUsers + moved))
      : Math.max(goal.users, Math.round(fromUsers - moved));
  };
  return {
    usersAt(elapsedMs) {
      current = position(elapsedMs);
      if (elapsedMs - askedAtMs >= SHAPE_TICK_MS) {
        const next = checkTick(tick(elapsedMs / 1000));
        if (next === null) return null;
        askedAtMs = elapsedMs;
        fromUsers = current;
        goal = next;
        current = position(elapsedMs);
      }
      return current;
    },
    peak: null,
    endsWithItsUsers: false,
  };
}

/**
 * The closed-model profile, with the open-model kinds' time: a run of arrival rates alone goes
 * on until their schedules end (for ever for a constant rate, until stopped).
 */
export function withArrivals(profile: LoadProfile, arrivals: readonly ArrivalKind[]): LoadProfile {
  if (arrivals.length === 0) return profile;
  const endMs = arrivals.some((a) => a.endless)
    ? null
    : Math.max(...arrivals.map((a) => a.stages.reduce((ms, s) => ms + s.durationMs, 0)));
  const arrivalsOver = (ms: number) => endMs !== null && ms >= endMs;
  return {
    peak: profile.peak,
    endsWithItsUsers: profile.endsWithItsUsers,
    stageAt: profile.stageAt?.bind(profile),
    usersAt(ms) {
      const users = profile.usersAt(ms);
      if (users === null) return arrivalsOver(ms) ? null : 0;
      return users === 0 && profile.peak === 0 && arrivalsOver(ms) ? null : users;
    },
  };
}
