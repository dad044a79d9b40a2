import assert from "node:assert/strict";
import { rampProfile, shapeProfile, stagesProfile } from "./load_profile.ts";
import { rampTarget, UserAllocator, UserSchedule } from "./ramp.ts";

Deno.test("users are split across kinds by weight and across workers evenly", () => {
  const allocator = new UserAllocator(
    [{ kind: "shopper", weight: 3 }, { kind: "bot", weight: 1 }],
    2,
  );
  assert.deepEqual(allocator.totals(20), { shopper: 15, bot: 5 });
  const perWorker = allocator.allocate(20);
  assert.equal(perWorker.length, 2);
  assert.equal(perWorker[0].shopper + perWorker[0].bot, 10);
  assert.equal(perWorker[0].shopper + perWorker[1].shopper, 15);
  // every prefix keeps the ratio within one user
  for (let n = 1; n <= 40; n++) {
    const t = allocator.totals(n);
    assert.ok(Math.abs(t.shopper - n * 0.75) <= 1, `n=${n}: ${JSON.stringify(t)}`);
  }
});

Deno.test("a kind of weight 0 gets no users", () => {
  const allocator = new UserAllocator([{ kind: "a", weight: 0 }, { kind: "b", weight: 2 }], 3);
  assert.deepEqual(allocator.totals(7), { b: 7 });
});

Deno.test("the ramp starts one user at once and reaches the target at users/spawnRate", () => {
  assert.equal(rampTarget(0, 20, 10), 1);
  assert.equal(rampTarget(1000, 20, 10), 10);
  assert.equal(rampTarget(1950, 20, 10), 20);
  assert.equal(rampTarget(5000, 20, 10), 20);
  assert.equal(rampTarget(0, 5, Infinity), 5);
  assert.equal(rampTarget(100, 0, 10), 0);
});

Deno.test("the schedule steps only when its target changes and says when it first reached it", () => {
  const ramp = new UserSchedule([{ kind: "a", weight: 1 }], 2, rampProfile(4, 2));
  const step = (ms: number) => {
    const { perWorker, firstTargetReached } = ramp.step(ms);
    return [perWorker, firstTargetReached];
  };
  assert.deepEqual(step(0), [[{ a: 1 }, { a: 0 }], false]);
  assert.deepEqual(step(100), [null, false]);
  assert.deepEqual(step(1000), [[{ a: 1 }, { a: 1 }], false]);
  assert.deepEqual(step(2000), [[{ a: 2 }, { a: 2 }], true]);
  assert.deepEqual(step(3000), [null, false]);
  assert.deepEqual(ramp.usersByKind(), { a: 4 });
  const none = new UserSchedule([{ kind: "a", weight: 1 }], 1, rampProfile(0, 10));
  assert.deepEqual(none.step(0), { perWorker: [{ a: 0 }], over: false, firstTargetReached: true });
});

Deno.test("fixed-count kinds get exactly their users first; the rest go by weight", () => {
  const allocator = new UserAllocator([
    { kind: "admin", weight: 1, fixed: 2 },
    { kind: "shopper", weight: 3 },
    { kind: "bot", weight: 1 },
  ], 2);
  assert.deepEqual(allocator.totals(1), { admin: 1, shopper: 0, bot: 0 });
  assert.deepEqual(allocator.totals(10), { admin: 2, shopper: 6, bot: 2 });
  assert.deepEqual(allocator.totals(102), { admin: 2, shopper: 75, bot: 25 });
  const onlyFixed = new UserAllocator([{ kind: "a", weight: 1, fixed: 3 }], 1);
  assert.equal(onlyFixed.capacity, 3);
  assert.deepEqual(onlyFixed.totals(10), { a: 3 });
});

Deno.test("stages ramp linearly from one target to the next, then the profile is over", () => {
  const profile = stagesProfile([
    { durationMs: 10_000, users: 50 },
    { durationMs: 10_000, users: 50 },
    { durationMs: 5_000, users: 0 },
  ]);
  assert.deepEqual([0, 5_000, 10_000, 15_000, 22_500, 24_999].map((t) => profile.usersAt(t)), [
    0,
    25,
    50,
    50,
    25,
    0,
  ]);
  assert.equal(profile.usersAt(25_000), null);
  assert.equal(profile.peak, 50);
  assert.deepEqual(profile.stageAt!(12_000), { stage: 2, users: 50, durationMs: 10_000 });
});

Deno.test("a shape is asked once a second and its users move at its spawn rate", () => {
  const asked: number[] = [];
  const profile = shapeProfile((s) => {
    asked.push(s);
    return s < 3 ? { users: 10, spawnRate: 5 } : s < 4 ? { users: 4 } : null;
  });
  assert.deepEqual([0, 500, 1000, 1500, 2000].map((t) => profile.usersAt(t)), [0, 3, 5, 8, 10]);
  assert.equal(profile.usersAt(3000), 4, "down at once: no spawn rate is all at once");
  assert.equal(profile.usersAt(4000), null);
  assert.deepEqual(asked, [0, 1, 2, 3, 4]);
  assert.throws(() => shapeProfile(() => ({ users: -1 })).usersAt(0), /whole users >= 0/);
  assert.throws(() => shapeProfile(() => ({ users: 1, spawnRate: 0 })).usersAt(0), /spawnRate 0/);
});

Deno.test("user identity: each worker's users, numbered by the allocator, are 0 … N-1 once each, dense per kind", () => {
  const kinds = [
    { kind: "admin", weight: 1, fixed: 2 },
    { kind: "shopper", weight: 3 },
    { kind: "bot", weight: 1 },
  ];
  for (const workers of [1, 2, 3, 4]) {
    const coordinator = new UserAllocator(kinds, workers);
    const total = 37;
    const perWorker = coordinator.allocate(total);
    const indices: number[] = [];
    const byKind: Record<string, number[]> = {};
    perWorker.forEach((counts, worker) => {
      // Each worker replays its own allocator, as a load worker does.
      const own = new UserAllocator(kinds, workers);
      for (const [kind, n] of Object.entries(counts)) {
        for (let slot = 0; slot < n; slot++) {
          const id = own.identity(kind, worker, slot);
          assert.ok(id, `${kind} slot ${slot} on worker ${worker}`);
          indices.push(id.index);
          (byKind[kind] ??= []).push(id.kindIndex);
        }
      }
    });
    assert.deepEqual(indices.sort((a, b) => a - b), Array.from({ length: total }, (_, i) => i));
    for (const [kind, n] of Object.entries(coordinator.totals(total))) {
      assert.deepEqual(byKind[kind].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
    }
    // every worker gets its share of every kind, within one user
    for (const kind of ["shopper", "bot"]) {
      const shares = perWorker.map((c) => c[kind]);
      assert.ok(Math.max(...shares) - Math.min(...shares) <= 1, `${workers}: ${shares}`);
    }
  }
  assert.equal(new UserAllocator(kinds, 2).identity("admin", 0, 1), null, "2 fixed admins only");
  assert.equal(new UserAllocator(kinds, 2).identity("nobody", 0, 0), null);
});

Deno.test("a lost worker's users move to the live workers; nobody else's move", () => {
  const allocator = new UserAllocator([{ kind: "a", weight: 3 }, { kind: "b", weight: 1 }], 3);
  const before = allocator.allocate(12);
  const after = allocator.allocate(12, [true, false, true]);
  const sum = (c: Record<string, number>) => c.a + c.b;
  assert.deepEqual(after[1], { a: 0, b: 0 });
  assert.equal(sum(after[0]) + sum(after[2]), 12);
  // The kinds' totals are those of the whole run, whichever workers are live.
  assert.deepEqual(
    { a: after[0].a + after[2].a, b: after[0].b + after[2].b },
    allocator.totals(12),
  );
  // The live workers keep every user they had and share the lost one's.
  for (const i of [0, 2]) {
    assert.ok(after[i].a >= before[i].a && after[i].b >= before[i].b, `worker ${i}`);
  }
  assert.equal(Math.abs(sum(after[0]) - sum(after[2])), 0);
  // With no live worker nobody runs.
  assert.deepEqual(allocator.allocate(5, [false, false, false]).map(sum), [0, 0, 0]);
});

Deno.test("the schedule places users again when a worker is lost, though its target holds", () => {
  const ramp = new UserSchedule([{ kind: "a", weight: 1 }], 2, rampProfile(4, Infinity));
  assert.deepEqual(ramp.step(0).perWorker, [{ a: 2 }, { a: 2 }]);
  assert.equal(ramp.step(100).perWorker, null);
  ramp.setLive([true, false]);
  assert.deepEqual(ramp.step(200).perWorker, [{ a: 4 }, { a: 0 }]);
  assert.equal(ramp.step(300).perWorker, null);
});
