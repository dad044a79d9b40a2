// Load profiles end to end: stages and shapes set how many users run when, as the JSON records of
// a real run show, with 1 and 2 load workers.
import assert from "node:assert/strict";
import { argv, ROOT, runCli, runCliWithSummary, startCountingServer, tempDir } from "./helpers.ts";

const PLAN = `${ROOT}tests/plans/counting.plan.ts`;

interface UsersAt {
  elapsedMs: number;
  users: number;
}

/** Runs the plan with `args` and the json recorder; returns the users of every interval record. */
async function usersOverTime(args: string[]): Promise<{ points: UsersAt[]; stages: number[] }> {
  const server = startCountingServer();
  const dir = await tempDir();
  try {
    const file = `${dir.path}/records.ndjson`;
    const result = await runCli([
      PLAN,
      ...argv`--host ${server.url} --recorder json --json-file ${file} --stats-interval 250ms`,
      ...args,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const records = (await Deno.readTextFile(file)).trim().split("\n").map((l) => JSON.parse(l));
    return {
      points: records.filter((r) => r.stats_type === "current").map((r) => ({
        elapsedMs: r.elapsed_ms,
        users: r.users,
      })),
      stages: records.filter((r) => r.telemetry_name === "stampede.event.stage.started").map((r) =>
        r.users
      ),
    };
  } finally {
    await server.shutdown();
    await dir.remove();
  }
}

/** Users a stages profile asks for at `ms`: linear from one target to the next. */
function planned(stages: [number, number][], ms: number): number {
  let start = 0;
  let from = 0;
  for (const [durationMs, users] of stages) {
    if (ms < start + durationMs) {
      return Math.round(from + (users - from) * (ms - start) / durationMs);
    }
    start += durationMs;
    from = users;
  }
  return from;
}

for (const workers of [1, 2]) {
  Deno.test(`stages with ${workers} worker(s): the users follow the profile within one interval`, async () => {
    const stages: [number, number][] = [[1000, 8], [1000, 8], [1000, 2], [500, 2]];
    const { points, stages: started } = await usersOverTime(
      argv`--stages 1s:8,1s:8,1s:2,500ms:2 --workers ${workers}`,
    );
    assert.deepEqual(started, [8, 8, 2, 2], "one stage_started event per stage");
    assert.ok(points.length >= 10, JSON.stringify(points));
    for (const { elapsedMs, users } of points) {
      // The workers report the users they run at each interval: within one interval (250 ms)
      // of what the profile asked for at some moment of that interval.
      const low = Math.min(planned(stages, elapsedMs - 250), planned(stages, elapsedMs));
      const high = Math.max(planned(stages, elapsedMs - 250), planned(stages, elapsedMs));
      assert.ok(
        users >= low - 1 && users <= high + 1,
        `at ${elapsedMs} ms: ${users} users, the profile asked ${low}..${high}`,
      );
    }
    assert.ok(points.some((p) => p.users === 8), "the plateau was reached");
  });
}

Deno.test("stages end the run after the last one, with the peak as the run's users", async () => {
  const server = startCountingServer();
  try {
    const result = await runCliWithSummary(
      argv`${PLAN} --host ${server.url} --stages 500ms:4,1s:4 --workers 1 --stop-timeout 5s`,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.summary.stop_reason, "completed");
    assert.ok(result.summary.duration_s < 3, `${result.summary.duration_s} s`);
    assert.equal(result.summary.users, 4);
    assert.equal(result.summary.totals.requests, server.total());
  } finally {
    await server.shutdown();
  }
});

Deno.test("bad stages are refused before any request: one line, exit code 2", async () => {
  const server = startCountingServer();
  try {
    for (const stages of ["30s:-5", "30s", "soon:5", ""]) {
      const result = await runCli(argv`${PLAN} --host ${server.url} --stages ${stages}`);
      assert.equal(result.code, 2, `${stages}: ${result.stderr}`);
      assert.match(result.stderr.trim(), /^stampede: error: Cannot use stage/);
    }
    assert.equal(server.total(), 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("a shape sets the users each second and ends the run; a fixed kind keeps its count", async () => {
  const server = startCountingServer();
  const dir = await tempDir();
  try {
    const file = `${dir.path}/records.ndjson`;
    const result = await runCliWithSummary(
      argv`${ROOT}tests/plans/shape.plan.ts --host ${server.url} --workers 2 --recorder json --json-file ${file} --stats-interval 250ms --stop-timeout 5s`,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.summary.stop_reason, "completed");
    assert.equal(result.summary.users, 6);
    const records = (await Deno.readTextFile(file)).trim().split("\n").map((l) => JSON.parse(l));
    const current = records.filter((r) => r.stats_type === "current");
    const early = current.filter((r) => r.elapsed_ms > 400 && r.elapsed_ms < 900);
    const late = current.filter((r) => r.elapsed_ms > 1400 && r.elapsed_ms < 1900);
    assert.ok(early.every((r) => r.users === 2), JSON.stringify(early.map((r) => r.users)));
    assert.ok(late.every((r) => r.users === 6), JSON.stringify(late.map((r) => r.users)));
    assert.ok(current.every((r) => (r.users_by_kind.admin ?? 0) <= 1), "admin: exactly one");
    assert.deepEqual(late[0].users_by_kind, { admin: 1, shopper: 5 });
    assert.ok((server.counts.get("GET /admin") ?? 0) > 0);
    assert.equal(result.summary.totals.requests, server.total());
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});
