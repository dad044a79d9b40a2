// Bad input gets one clear line, the right exit code, and no request is sent.
import assert from "node:assert/strict";
import { argv, ROOT, runCli, startCountingServer } from "./helpers.ts";

const GOOD = `${ROOT}tests/plans/counting.plan.ts`;
const BAD = `${ROOT}tests/plans/bad`;

const cases: { what: string; args: string[]; code: number; message: RegExp; bare?: boolean }[] = [
  {
    what: "a missing plan",
    args: [`${ROOT}tests/plans/nope.plan.ts`],
    code: 3,
    message: /Cannot load plan ".*nope\.plan\.ts": .*(not found|No such file)/i,
  },
  {
    what: "a syntax error",
    args: [`${BAD}/syntax_error.plan.ts`],
    code: 3,
    message: /Cannot load plan ".*syntax_error\.plan\.ts": .*(Expected|Unexpected|SyntaxError)/,
  },
  {
    what: "a plan that throws on import",
    args: [`${BAD}/throws_on_import.plan.ts`],
    code: 3,
    message: /Cannot load plan ".*": Error: configuration file missing/,
  },
  {
    what: "no default export",
    args: [`${BAD}/no_default.plan.ts`],
    code: 3,
    message: /Cannot load plan ".*no_default\.plan\.ts": it has no default export/,
  },
  {
    what: "a default export that is not a plan",
    args: [`${BAD}/not_a_plan.plan.ts`],
    code: 3,
    message: /its default export is not a plan; wrap it in definePlan/,
  },
  {
    what: "an empty users map",
    args: [`${BAD}/empty_users.plan.ts`],
    code: 3,
    message: /Cannot use plan: users is empty/,
  },
  {
    what: "a negative weight",
    args: [`${BAD}/negative_weight.plan.ts`],
    code: 3,
    message: /Cannot use plan: users\.u\.weight is -1; weights are numbers from 0 to 1000000/,
  },
  {
    what: "a typo in a plan key",
    args: [`${BAD}/typo_key.plan.ts`],
    code: 3,
    message: /Cannot use plan: unknown key "load\.user"; did you mean "load\.users"\?/,
  },
  {
    what: "no host",
    args: [`${ROOT}tests/plans/no_host.plan.ts`],
    code: 3,
    message: /it has no host; set host in the plan or pass --host/,
    bare: true,
  },
  {
    what: "an unknown flag",
    args: [GOOD, "--usrs", "3"],
    code: 2,
    message: /unknown option '--usrs'.*--users/,
  },
  {
    what: "a bad duration",
    args: [GOOD, "--host", "http://127.0.0.1:9", "--run-time", "5x"],
    code: 2,
    message: /--run-time.*'5x' is invalid.*30s, 5m, 1h30m/,
    bare: true,
  },
  {
    what: "absurdly many users",
    args: [GOOD, "--users", "1000000000"],
    code: 2,
    message: /Cannot use users "1000000000": it must be a whole number from 0 to 1000000/,
  },
  {
    what: "a bad number",
    args: [GOOD, "--users", "many"],
    code: 2,
    message: /--users.*'many' is invalid/,
  },
  { what: "no plan", args: [], code: 2, message: /missing required argument 'plan'/, bare: true },
  {
    what: "an unknown recorder",
    args: [GOOD, "--recorder", "console,nosuch"],
    code: 2,
    message: /Cannot load recorder "nosuch": no such recorder/,
  },
  {
    what: "a summary file in a folder that does not exist",
    args: [GOOD, "--summary", "/nonexistent-folder/summary.json"],
    code: 2,
    message: /Cannot write summary file "\/nonexistent-folder\/summary\.json": .*No such file/,
  },
  {
    what: "a plan that never finishes loading",
    args: [`${BAD}/never_loads.plan.ts`, "--load-timeout", "1s"],
    code: 3,
    message:
      /Cannot load plan ".*never_loads\.plan\.ts": it did not finish loading within 1s .*--load-timeout/,
  },
  {
    what: "a plan that never finishes loading in the load workers",
    args: [`${ROOT}tests/plans/never_loads_in_workers.plan.ts`, "--load-timeout", "1s"],
    code: 4,
    message: /Cannot start load workers: the plan did not load in every worker within 1s/,
  },
  {
    what: "an arrival rate of 0",
    args: [GOOD, "--arrival-rate", "0/s", "--run-time", "1s"],
    code: 2,
    message: /Cannot use arrival rate "0\/s": it must be above 0, e\.g\. 200\/s/,
  },
  {
    what: "an arrival rate that is not one",
    args: [GOOD, "--arrival-rate", "fast", "--run-time", "1s"],
    code: 2,
    message: /Cannot use arrival rate "fast": expected iterations per time such as 200\/s/,
  },
  {
    what: "an arrival-rate pool of 0",
    args: [GOOD, "--arrival-rate", "10/s", "--users", "0", "--run-time", "1s"],
    code: 2,
    message: /Cannot use an arrival rate with a pool of 0 users: --users is the pool, at least 1/,
  },
  {
    what: "a ceiling below the pool",
    args: [GOOD, "--arrival-rate", "10/s", "--users", "4", "--max-users", "2", "--run-time", "1s"],
    code: 2,
    message: /Cannot use --max-users 2: .*no smaller than the pool \(--users 4\)/,
  },
  {
    what: "stages with an arrival rate",
    args: [GOOD, "--arrival-rate", "10/s", "--stages", "5s:10"],
    code: 2,
    message: /Cannot use --stages with an arrival rate/,
  },
  {
    what: "zero iterations",
    args: [GOOD, "--iterations", "0"],
    code: 2,
    message: /Cannot use iterations 0/,
  },
  {
    what: "a shape that throws",
    args: [`${BAD}/throwing_shape.plan.ts`],
    code: 3,
    message: /Cannot use plan: load\.shape\(0\) failed: Error: no shape today/,
  },
  {
    what: "a typo in an arrival",
    args: [`${BAD}/arrival_typo.plan.ts`],
    code: 3,
    message: /unknown key "users\.api\.arrival\.rte"; did you mean "users\.api\.arrival\.rate"\?/,
  },
  {
    what: "a bad host",
    args: [GOOD, "--host", "ftp://x", "--run-time", "1s"],
    code: 3,
    message: /only http:\/\/ and https:\/\//,
    bare: true,
  },
];

for (const c of cases) {
  Deno.test(`${c.what}: one line, exit code ${c.code}, no request sent`, async () => {
    const server = startCountingServer();
    try {
      // A valid host and run time, so only the case's own problem can fail the run.
      const defaults = ["--host", server.url, "--run-time", "1s"];
      const result = await runCli([...c.args, ...(c.bare ? [] : defaults)]);
      assert.equal(result.code, c.code, `exit code; stderr: ${result.stderr}`);
      const lines = result.stderr.trim().split("\n");
      assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
      assert.match(lines[0], /^stampede: error: /);
      assert.match(lines[0], c.message);
      assert.equal(server.total(), 0, "no request reached the target");
    } finally {
      await server.shutdown();
    }
  });
}

Deno.test("--log-level debug adds the stack trace of a plan error", async () => {
  const result = await runCli([`${BAD}/throws_on_import.plan.ts`, "--log-level", "debug"]);
  assert.equal(result.code, 3);
  assert.match(result.stderr, /configuration file missing/);
  assert.match(result.stderr, /\n\s+at /, "a stack trace follows");
});

Deno.test("--help and --version exit 0 and say what they should", async () => {
  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  for (
    const flag of [
      "--users",
      "--spawn-rate",
      "--run-time",
      "--host",
      "--workers",
      "--stop-timeout",
      "--recorder",
      "--summary",
      "STAMPEDE_USERS",
      "Exit codes",
    ]
  ) {
    assert.ok(help.stdout.includes(flag), `help mentions ${flag}`);
  }
  const version = await runCli(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+$/);
});

Deno.test("env vars set flags, and a flag wins over its env var", async () => {
  const server = startCountingServer();
  try {
    const dir = await Deno.makeTempDir();
    const result = await runCli([GOOD, "--users", "3", "--summary", `${dir}/s.json`], {
      env: {
        STAMPEDE_HOST: server.url,
        STAMPEDE_USERS: "5",
        STAMPEDE_RUN_TIME: "1s",
        STAMPEDE_TAGS: "team=checkout,env=ci",
      },
    });
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(await Deno.readTextFile(`${dir}/s.json`));
    assert.equal(summary.users, 3, "the flag beat STAMPEDE_USERS");
    assert.ok(summary.duration_s < 4, "STAMPEDE_RUN_TIME applied");
    assert.equal(summary.host, server.url, "STAMPEDE_HOST applied");
    assert.deepEqual(summary.tags, { team: "checkout", env: "ci" });
    assert.ok(server.total() > 0);
    await Deno.remove(dir, { recursive: true });
  } finally {
    await server.shutdown();
  }
});

Deno.test("a boolean flag's env var means what it says: false is false, and nonsense is refused", async () => {
  const server = startCountingServer();
  const dir = await Deno.makeTempDir();
  try {
    const finalRecord = async (value: string) => {
      const file = `${dir}/${value}.ndjson`;
      const result = await runCli(
        argv`${GOOD} --host ${server.url} --run-time 1s --workers 1 --recorder json --json-file ${file}`,
        { env: { STAMPEDE_JSON_HISTOGRAMS: value } },
      );
      assert.equal(result.code, 0, result.stderr);
      const records = (await Deno.readTextFile(file)).trim().split("\n").map((l) => JSON.parse(l));
      return records.find((r) => r.stats_type === "final");
    };
    assert.equal("hdr_histogram_us" in await finalRecord("false"), false);
    assert.equal("hdr_histogram_us" in await finalRecord("0"), false);
    assert.equal("hdr_histogram_us" in await finalRecord("true"), true);
    const bad = await runCli(argv`${GOOD} --host ${server.url} --run-time 1s --recorder json`, {
      env: { STAMPEDE_JSON_HISTOGRAMS: "maybe" },
    });
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /^stampede: error: Cannot use STAMPEDE_JSON_HISTOGRAMS "maybe": expected true or false/,
    );
    assert.equal(server.total() > 0, true);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
