import assert from "node:assert/strict";
import { between, constant, definePlan, isPlan, planTimeoutMs, userKindsOf } from "./plan.ts";
import { PlanError } from "../errors.ts";

const task = { run: () => {} };

Deno.test("definePlan accepts the documented shape and marks it as a plan", () => {
  const plan = definePlan({
    name: "shop",
    host: "http://127.0.0.1:8000",
    users: {
      shopper: {
        weight: 3,
        wait: between(0.5, 2),
        tasks: { browse: { weight: 5, ...task }, item: task },
      },
      bot: { weight: 1, wait: constant(0), tasks: { ping: () => {} } },
    },
    load: { users: 20, spawnRate: 10, duration: "30s" },
  });
  assert.ok(isPlan(plan));
  const kinds = userKindsOf(plan);
  assert.deepEqual(kinds.map((k) => [k.kind, k.weight, k.tasks.length]), [["shopper", 3, 2], [
    "bot",
    1,
    1,
  ]]);
  assert.equal(kinds[1].wait(), 0);
  for (let i = 0; i < 100; i++) {
    const w = kinds[0].wait();
    assert.ok(w >= 0.5 && w <= 2);
  }
});

Deno.test("definePlan names what is wrong", () => {
  const bad: [unknown, RegExp][] = [
    [{ users: {} }, /users is empty/],
    [{ users: { u: { weight: -1, tasks: { t: task } } } }, /users\.u\.weight is -1/],
    [
      { users: { u: { tasks: { t: { weight: "x", run: () => {} } } } } },
      /users\.u\.tasks\.t\.weight is x/,
    ],
    [{ users: { u: { tasks: {} } } }, /users\.u has no task with a weight above 0/],
    [{ users: { u: { tasks: { t: {} } } } }, /users\.u\.tasks\.t has no run function/],
    [{ users: { u: { weight: 0, tasks: { t: task } } } }, /every user kind has weight 0/],
    [{ users: { u: { wait: -2, tasks: { t: task } } } }, /users\.u\.wait must be/],
    [{ host: "localhost:80", users: { u: { tasks: { t: task } } } }, /host "localhost:80"/],
    [{ users: { u: { weight: 1e308, tasks: { t: task } } } }, /weights are numbers from 0 to/],
    [{ users: { u: { tasks: { t: task } } }, load: { users: 2.5 } }, /load\.users is 2\.5/],
    [{ users: { u: { tasks: { t: task } } }, load: { users: 1e9 } }, /from 0 to 1000000/],
    [{ users: { u: { tasks: { t: task } } }, load: { spawnRate: 0 } }, /load\.spawnRate is 0/],
    [{ users: { u: { tasks: { t: task } } }, load: { duration: "soon" } }, /load\.duration "soon"/],
    [
      { users: { u: { tasks: { t: task } } }, load: { user: 6 } },
      /^Cannot use plan: unknown key "load\.user"; did you mean "load\.users"\?$/,
    ],
    [{ users: { u: { tasks: { t: task } } }, stages: [] }, /unknown key "stages"; known keys/],
    [
      { users: { u: { tasks: { t: task }, wiat: 1 } } },
      /"users\.u\.wiat"; did you mean "users\.u\.wait"/,
    ],
    [{ users: { u: { tasks: { t: { ...task, wieght: 2 } } } } }, /"users\.u\.tasks\.t\.wieght"/],
    [
      { users: { u: { tasks: { t: task } } }, http: { timeOut: 5 } },
      /did you mean "http\.timeout"/,
    ],
    [{ users: { u: { tasks: { t: task } } }, http: { timeout: "5s", timeoutMs: 5 } }, /keep one/],
    [{ users: { u: { tasks: { t: task } } }, http: { timeout: "30d" } }, /at most 24 days/],
    [{ users: { u: { wait: "soon", tasks: { t: task } } } }, /users\.u\.wait "soon"/],
    [
      { users: { u: { tasks: { t: task } } }, load: { stages: [{ duration: "1s", users: -1 }] } },
      /load\.stages\[0\]\.users is -1/,
    ],
    [{ users: { u: { tasks: { t: task } } }, load: { stages: [] } }, /load\.stages must be a list/],
    [
      {
        users: { u: { tasks: { t: task } } },
        load: {
          shape: () => {
            throw new Error("boom");
          },
        },
      },
      /load\.shape\(0\) failed: Error: boom/,
    ],
    [
      { users: { u: { tasks: { t: task } } }, load: { shape: () => ({ users: 1.5 }) } },
      /load\.shape\(0\) failed: .*whole users/,
    ],
    [
      {
        users: { u: { tasks: { t: task } } },
        load: { users: 5, stages: [{ duration: 1, users: 1 }] },
      },
      /load has users and stages; give one of users, stages or shape/,
    ],
    [{ users: { u: { fixed: 2, weight: 3, tasks: { t: task } } } }, /both weight and fixed/],
    [{ users: { u: { fixed: -2, tasks: { t: task } } } }, /users\.u\.fixed is -2/],
    [
      { users: { u: { tasks: { t: task } } }, thresholds: { "http.latency": ["p(95)<1"] } },
      /^Cannot use plan: Cannot use threshold metric "http\.latency"/,
    ],
    [
      { users: { u: { tasks: { t: task } } }, thresholds: { "http.failures": ["p(95)<1"] } },
      /expected rate, count/,
    ],
  ];
  for (const [spec, message] of bad) {
    assert.throws(() => definePlan(spec as never), (e: unknown) => {
      assert.ok(e instanceof PlanError, String(e));
      assert.match(e.message, message);
      return true;
    });
  }
  assert.throws(() => between(2, 1), /between\(2, 1\)/);
  assert.throws(() => constant(-1), /constant\(-1\)/);
});

Deno.test("durations in a plan: seconds or text, in wait, between, constant and the timeout", () => {
  assert.equal(constant("1m30s")(), 90);
  assert.equal(constant(0.5)(), 0.5);
  for (let i = 0; i < 100; i++) {
    const s = between("500ms", "2s")();
    assert.ok(s >= 0.5 && s <= 2, String(s));
  }
  const plan = definePlan({
    users: { u: { wait: "250ms", tasks: { t: task } } },
    http: { timeout: "5s" },
  });
  assert.equal(userKindsOf(plan)[0].wait(), 0.25);
  assert.equal(planTimeoutMs(plan.http), 5_000);
  assert.equal(planTimeoutMs({ timeout: 2 }), 2_000);
  assert.equal(planTimeoutMs({ timeoutMs: 700 }), 700);
  assert.throws(() => between("2s", "1s"), /between\(2s, 1s\): need 0 <= min <= max/);
});
