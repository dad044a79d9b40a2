// run() from mod.ts works without the CLI: in-process and in Web Workers.
import assert from "node:assert/strict";
import { constant, definePlan, run, StopUser } from "./mod.ts";
import type { RecorderPlugin } from "./recorder.ts";
import { ROOT, startCountingServer } from "./tests/helpers.ts";

Deno.test("run(plan object) runs users on the calling thread and returns the summary", async () => {
  const server = startCountingServer();
  try {
    const plan = definePlan({
      name: "lib",
      host: server.url,
      users: {
        u: {
          wait: constant(0.01),
          tasks: {
            hit: ({ http }) => http.get("/hit", { query: { q: 1 } }),
            custom: ({ record }) =>
              record({ type: "db", name: "select", durationMs: 2.5, bytes: 10 }),
          },
        },
      },
    });
    const summary = await run(plan, { users: 3, runTime: "1s", stopTimeout: "1s", recorders: [] });
    assert.equal(summary.testplan, "lib");
    const hit = summary.endpoints.find((e) => e.name === "/hit")!;
    assert.equal(hit.requests, server.counts.get("GET /hit"));
    const db = summary.endpoints.find((e) => e.method === "db" && e.name === "select")!;
    assert.ok(db.requests > 0);
    assert.equal(db.min_ms, 2.5);
    assert.equal(db.max_ms, 2.5);
    assert.equal(db.bytes, db.requests * 10);
    assert.equal(summary.totals.requests, hit.requests + db.requests);
  } finally {
    await server.shutdown();
  }
});

Deno.test("run(path) runs the plan module in Web Workers", async () => {
  const server = startCountingServer();
  try {
    const summary = await run(`${ROOT}tests/plans/counting.plan.ts`, {
      host: server.url,
      workers: 2,
      runTime: "1s",
      stopTimeout: "2s",
      recorders: [],
    });
    assert.equal(summary.testplan, "counting");
    assert.equal(summary.totals.requests, server.total());
    assert.ok(summary.totals.requests > 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("StopUser ends users; when all have ended the run stops by itself", async () => {
  const server = startCountingServer();
  try {
    const plan = definePlan({
      host: server.url,
      users: {
        once: {
          tasks: {
            t: async ({ http, state }) => {
              await http.get("/once");
              state.n = ((state.n as number) ?? 0) + 1;
              if (state.n === 3) throw new StopUser();
            },
          },
        },
      },
    });
    const summary = await run(plan, { users: 4, runTime: "30s", recorders: [] });
    assert.equal(summary.stop_reason, "all_users_stopped");
    assert.equal(summary.totals.requests, 12);
    assert.equal(summary.totals.failures, 0);
    assert.equal(server.counts.get("GET /once"), 12);
    assert.ok(summary.duration_s < 10);
  } finally {
    await server.shutdown();
  }
});

Deno.test("an aborted signal stops the run gracefully; onStart and onStop run per user", async () => {
  const server = startCountingServer();
  try {
    const plan = definePlan({
      host: server.url,
      users: {
        u: {
          wait: constant(0.01),
          onStart: ({ http }) => http.post("/login"),
          onStop: ({ http }) => http.post("/logout"),
          tasks: { t: ({ http }) => http.get("/work") },
        },
      },
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 800);
    const summary = await run(plan, {
      users: 2,
      stopTimeout: "2s",
      signal: controller.signal,
      recorders: [],
    });
    assert.equal(summary.stop_reason, "interrupted");
    assert.equal(server.counts.get("POST /login"), 2);
    assert.equal(server.counts.get("POST /logout"), 2);
    assert.equal(summary.totals.requests, server.total());
  } finally {
    await server.shutdown();
  }
});

Deno.test("recorders passed as objects get intervals, the final snapshot and lifecycle events", async () => {
  const server = startCountingServer();
  try {
    const events: string[] = [];
    let intervals = 0;
    let finalRequests = -1;
    let stopped = "";
    const probe: RecorderPlugin = {
      id: "probe",
      create: () => ({
        lifecycle: { event: (e) => void events.push(e.name) },
        request: {
          interval: () => void intervals++,
          final: (s) => void (finalRequests = s.cumulative.total.requests),
        },
        output: { stop: (reason) => void (stopped = reason) },
      }),
    };
    const plan = definePlan({
      host: server.url,
      users: {
        u: { wait: constant(0.01), tasks: { t: ({ http }) => http.get("/") } },
      },
    });
    const summary = await run(plan, {
      users: 2,
      runTime: "1500ms",
      statsInterval: "200ms",
      stopTimeout: "1s",
      recorders: [probe],
    });
    assert.deepEqual(events, [
      "worker_started",
      "test_start",
      "spawning_complete",
      "worker_stopped",
      "test_stop",
    ]);
    assert.ok(intervals >= 5, `${intervals} intervals`);
    assert.equal(finalRequests, summary.totals.requests);
    assert.equal(stopped, "completed");
  } finally {
    await server.shutdown();
  }
});

Deno.test("a recorder that cannot be created stops the ones made before it, and nothing runs", async () => {
  const server = startCountingServer();
  try {
    let stopped = "";
    const first: RecorderPlugin = {
      id: "first",
      create: () => ({ output: { stop: (reason) => void (stopped = reason) } }),
    };
    const broken: RecorderPlugin = {
      id: "broken",
      create: () => {
        throw new Error("cannot open file");
      },
    };
    const plan = definePlan({
      host: server.url,
      users: { u: { tasks: { t: ({ http }) => void http.get("/") } } },
    });
    await assert.rejects(
      () => run(plan, { runTime: "1s", recorders: [first, broken] }),
      /cannot open file/,
    );
    assert.equal(stopped, "failed");
    assert.equal(server.total(), 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("from another folder with no deno.json: a plan and a script importing mod.ts by path type-check and run", async () => {
  const server = startCountingServer();
  const dir = await Deno.makeTempDir({ prefix: "stampede-elsewhere-" });
  try {
    await Deno.writeTextFile(
      `${dir}/shop.plan.ts`,
      `import { between, definePlan } from "${ROOT}mod.ts";
export default definePlan({
  users: { shopper: { wait: between("5ms", "10ms"), tasks: { home: ({ http }) => http.get("/") } } },
});
`,
    );
    await Deno.writeTextFile(
      `${dir}/main.ts`,
      `import { run } from "${ROOT}mod.ts";
import plan from "./shop.plan.ts";
export default plan;
if (import.meta.main) {
  const summary = await run(plan, {
    planUrl: import.meta.url, host: Deno.args[0], users: 2, runTime: "1s", workers: 1,
    stopTimeout: "5s", recorders: [],
  });
  console.log(JSON.stringify(summary.totals.requests));
}
`,
    );
    const deno = (args: string[]) =>
      new Deno.Command(Deno.execPath(), { args, cwd: dir, stdout: "piped", stderr: "piped" })
        .output();
    const check = await deno(["check", "shop.plan.ts", "main.ts"]);
    assert.ok(check.success, new TextDecoder().decode(check.stderr));
    const ran = await deno(["run", "-A", "main.ts", server.url]);
    assert.ok(ran.success, new TextDecoder().decode(ran.stderr));
    assert.equal(Number(new TextDecoder().decode(ran.stdout).trim()), server.total());
    assert.ok(server.total() > 0);

    // Without the import.meta.main guard each load worker would import the script and run again:
    // it fails at once, saying what to do.
    await Deno.writeTextFile(
      `${dir}/unguarded.ts`,
      (await Deno.readTextFile(`${dir}/main.ts`)).replace("if (import.meta.main) {", "{"),
    );
    const unguarded = await deno(["run", "-A", "unguarded.ts", server.url]);
    assert.equal(unguarded.success, false);
    assert.match(
      new TextDecoder().decode(unguarded.stderr),
      /Cannot call run\(\) in the plan module as a load worker loads it; guard it with if \(import\.meta\.main\)/,
    );
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
