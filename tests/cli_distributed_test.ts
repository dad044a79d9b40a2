// Distributed runs through the CLI: a coordinator and worker processes on 127.0.0.1 against a
// counting target. Counts are exact; a worker killed, frozen or saturated mid-run is handled as
// docs/distributed.md says; workers leave on their own when the coordinator is gone.
import assert from "node:assert/strict";
import { readRecords, spawnCli } from "./distributed_helpers.ts";
import {
  argv,
  type CountingServer,
  freePort,
  readSummary,
  ROOT,
  runCli,
  startCountingServer,
  tempDir,
} from "./helpers.ts";
import type { Summary } from "../core/stats/summary.ts";

const PLAN = `${ROOT}tests/plans/distributed.plan.ts`;
const TOKEN = "t0ken-for-tests";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** This machine's name as a worker process takes it by default. */
const HOST = Deno.hostname().replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 63);

function served(server: CountingServer) {
  let items = 0;
  for (const [key, n] of server.counts) if (key.startsWith("GET /item/")) items += n;
  return { a: server.counts.get("GET /a") ?? 0, b: server.counts.get("POST /b") ?? 0, items };
}

function reported(summary: Summary) {
  const count = (method: string, name: string) =>
    summary.endpoints.find((e) => e.method === method && e.name === name)?.requests ?? 0;
  return { a: count("GET", "/a"), b: count("POST", "/b"), items: count("GET", "/item/:id") };
}

Deno.test("a coordinator and 3 worker processes: the merged counts are the target's; records carry one run_id and each worker's source", async () => {
  const facts = {
    runIds: new Set<string>(),
    testplans: new Set<string>(),
    teams: new Set<string>(),
  };
  const server = startCountingServer((req) => {
    if (req.headers.has("x-run-id")) {
      facts.runIds.add(req.headers.get("x-run-id")!);
      facts.testplans.add(req.headers.get("x-testplan")!);
      facts.teams.add(req.headers.get("x-team")!);
    }
    return new Response("ok");
  });
  const dir = await tempDir();
  const port = freePort();
  try {
    const coordinator = spawnCli(
      argv`${PLAN} --coordinator --listen 127.0.0.1:${port} --expect-workers 3 --token ${TOKEN} --host ${server.url} --run-time 3s --stop-timeout 2s --stats-interval 500ms --tag team=blue --recorder console,json --json-file ${dir.path}/records.jsonl --summary ${dir.path}/summary.json`,
    );
    // The token from the environment, as a Kubernetes Secret would give it.
    const workers = [1, 2, 3].map(() =>
      spawnCli(argv`worker --connect ws://127.0.0.1:${port} --workers 1`, {
        env: { STAMPEDE_TOKEN: TOKEN },
      })
    );
    const [result, ...workerResults] = await Promise.all([
      coordinator.result,
      ...workers.map((w) => w.result),
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /waiting for 3 workers on ws:\/\/127\.0\.0\.1:\d+/);
    assert.match(result.stderr, /3 workers joined with 3 load workers; starting/);
    for (const w of workerResults) {
      assert.equal(w.code, 0, w.stderr);
      assert.match(
        w.stderr,
        /stampede worker: joined ws:\/\/127\.0\.0\.1:\d+ as \S+ with 1 load worker/,
      );
      assert.match(w.stderr, /stampede worker: the run is over\n/);
    }

    const summary = await readSummary(`${dir.path}/summary.json`);
    assert.ok(summary.totals.requests > 50, `only ${summary.totals.requests} requests`);
    assert.deepEqual(reported(summary), served(server));
    assert.equal(summary.totals.requests, server.total());
    assert.equal(summary.users, 6);
    assert.equal(summary.workers_lost, 0);
    assert.equal(summary.workers_failed, 0);
    // The run's facts reached every remote load worker as the coordinator has them.
    assert.deepEqual([...facts.runIds], [summary.run_id]);
    assert.deepEqual([...facts.testplans], ["distributed"]);
    assert.deepEqual([...facts.teams], ["blue"]);

    const records = await readRecords(`${dir.path}/records.jsonl`);
    assert.deepEqual([...new Set(records.map((r) => r.run_id))], [summary.run_id]);
    const processes = [HOST, `${HOST}#2`, `${HOST}#3`];
    const sourcesOf = (name: string) =>
      new Set(records.filter((r) => r.telemetry_name === name).map((r) => r.source));
    assert.deepEqual(
      sourcesOf("stampede.event.worker.started"),
      new Set(processes.map((p) => `${p}/worker-1`)),
    );
    // Each process's own figures, and each of its load workers', with its source.
    const memory = records.filter((r) => r.telemetry_name === "stampede.system.metric.mem");
    for (const p of processes) {
      assert.ok(memory.some((r) => r.source === p && (r.rss_bytes as number) > 0), p);
      const loadWorker = records.filter((r) =>
        r.source === `${p}/worker-1` && r.telemetry_name === "stampede.system.metric.cpu"
      );
      assert.ok(loadWorker.length > 0, `${p}/worker-1`);
      // The stats interval reached it: it samples every 500 ms. Its last sample, sent with its
      // stop, covers the time since the one before: up to an interval.
      const intervals = loadWorker.map((r) => r.interval_ms as number);
      for (const ms of intervals.slice(0, -1)) {
        assert.ok(ms > 300 && ms < 900, `${p}/worker-1 interval ${ms} (${intervals})`);
      }
      const last = intervals.at(-1)!;
      assert.ok(last > 0 && last < 900, `${p}/worker-1 last interval ${last} (${intervals})`);
    }
    const start = records.find((r) => r.telemetry_name === "stampede.event.test.start");
    assert.equal(start?.workers, 3);
  } finally {
    await dir.remove();
    await server.shutdown();
  }
});

/** A coordinator and three workers named w1, w2, w3; `hurt` is done to w2 once the run started. */
async function runWithHurtWorker(hurt: (w2: Deno.ChildProcess) => void) {
  const server = startCountingServer(async () => {
    await sleep(2 + Math.random() * 8);
    return new Response("ok");
  });
  const dir = await tempDir();
  const port = freePort();
  try {
    const coordinator = spawnCli(
      argv`${PLAN} --coordinator --listen 127.0.0.1:${port} --expect-workers 3 --token ${TOKEN} --host ${server.url} --run-time 8s --stop-timeout 2s --stats-interval 250ms --heartbeat-timeout 2s --recorder console,json --json-file ${dir.path}/records.jsonl --summary ${dir.path}/summary.json`,
    );
    const workers = ["w1", "w2", "w3"].map((name) =>
      spawnCli(
        argv`worker --connect ws://127.0.0.1:${port} --token ${TOKEN} --workers 1 --name ${name}`,
      )
    );
    await coordinator.waitFor(/starting\n/);
    await sleep(2500);
    const hurtAt = server.total();
    hurt(workers[1].child);
    const result = await coordinator.result;
    const survivors = await Promise.all([workers[0].result, workers[2].result]);
    return {
      result,
      survivors,
      w2: workers[1],
      hurtAt,
      server,
      summary: await readSummary(`${dir.path}/summary.json`),
      records: await readRecords(`${dir.path}/records.jsonl`),
    };
  } finally {
    await dir.remove();
    await server.shutdown();
  }
}

/** What every run with a lost worker shows: said once, the run goes on, users move, no double count. */
function assertLostOnce(run: Awaited<ReturnType<typeof runWithHurtWorker>>, why: RegExp) {
  const { result, survivors, summary, records, server, hurtAt } = run;
  assert.equal(result.code, 4, result.stderr);
  assert.equal(summary.stop_reason, "completed");
  assert.equal(summary.workers_lost, 1);
  assert.equal(summary.workers_failed, 0);
  const lines = result.stderr.split("\n").filter((l) => / lost: /.test(l));
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0], /^stampede: error: Worker w2 lost: /);
  assert.match(lines[0], why);
  assert.deepEqual(summary.problems.filter((p) => p.startsWith("w2: ")).length, 1);
  const lost = records.filter((r) => r.telemetry_name === "stampede.event.worker.lost");
  assert.deepEqual(lost.map((r) => r.source), ["w2"]);
  // The survivors took its users: after the loss, two load workers run all six.
  const current = records.filter((r) => r.stats_type === "current");
  const last = current.at(-1)!;
  assert.equal(last.workers, 2);
  assert.equal(last.users, 6);
  // Never more than the target saw, never a request twice; and the run went on after the loss.
  const target = served(server);
  const merged = reported(summary);
  for (const key of ["a", "b", "items"] as const) {
    assert.ok(merged[key] <= target[key], `${key}: ${merged[key]} > ${target[key]}`);
  }
  assert.ok(summary.totals.requests <= server.total());
  assert.ok(
    server.total() > hurtAt * 1.5,
    `little load after the loss: ${hurtAt} -> ${server.total()}`,
  );
  assert.ok(summary.totals.requests > server.total() * 0.5);
  for (const s of survivors) assert.equal(s.code, 0, s.stderr);
}

Deno.test("SIGKILL of one worker process mid-run: lost once, the run finishes, the others take its users", async () => {
  const run = await runWithHurtWorker((w2) => w2.kill("SIGKILL"));
  assertLostOnce(run, /its connection closed/);
  assert.notEqual((await run.w2.result).code, 0);
});

Deno.test("a worker process that stops answering is lost after the heartbeat timeout, and not let back", async () => {
  const run = await runWithHurtWorker((w2) => w2.kill("SIGSTOP"));
  assertLostOnce(run, /sent no heartbeat for [2-9]\.\d s/);
  // Woken up, it finds itself cut off (its own heartbeat check or the close frame, whichever it
  // reads first) and leaves on its own.
  run.w2.child.kill("SIGCONT");
  const w2 = await run.w2.result;
  assert.equal(w2.code, 4, w2.stderr);
  assert.match(
    w2.stderr,
    /Cannot go on: (the connection to the coordinator closed \(4000 lost\)|the coordinator sent nothing for)/,
  );
});

Deno.test("a worker whose load loops are saturated (a task burning CPU for 3 s, past the 1.5 s heartbeat timeout) is not declared lost", async () => {
  const server = startCountingServer();
  const dir = await tempDir();
  const port = freePort();
  try {
    const coordinator = spawnCli(
      argv`${ROOT}tests/plans/cpu_saturated.plan.ts --coordinator --listen 127.0.0.1:${port} --expect-workers 1 --token ${TOKEN} --host ${server.url} --run-time 7s --stop-timeout 5s --heartbeat-timeout 1500ms --summary ${dir.path}/summary.json`,
    );
    const worker = spawnCli(
      argv`worker --connect ws://127.0.0.1:${port} --token ${TOKEN} --workers 1`,
    );
    const [result, w] = await Promise.all([coordinator.result, worker.result]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(w.code, 0, w.stderr);
    assert.doesNotMatch(result.stderr, /lost/);
    const summary = await readSummary(`${dir.path}/summary.json`);
    assert.equal(summary.workers_lost, 0);
    assert.ok(server.total() >= 2, `${server.total()} requests`);
    assert.equal(summary.totals.requests, server.total());
  } finally {
    await dir.remove();
    await server.shutdown();
  }
});

Deno.test("workers leave on their own when the coordinator is gone", async () => {
  const server = startCountingServer();
  const port = freePort();
  try {
    const coordinator = spawnCli(
      argv`${PLAN} --coordinator --listen 127.0.0.1:${port} --expect-workers 2 --token ${TOKEN} --host ${server.url} --run-time 60s --heartbeat-timeout 1500ms`,
    );
    const workers = [1, 2].map(() =>
      spawnCli(argv`worker --connect ws://127.0.0.1:${port} --token ${TOKEN} --workers 1`)
    );
    await coordinator.waitFor(/starting\n/);
    await sleep(1000);
    // Frozen, not closed: the workers find out from the missing heartbeats.
    coordinator.child.kill("SIGSTOP");
    const stoppedAt = performance.now();
    const results = await Promise.all(workers.map((w) => w.result));
    const tookMs = performance.now() - stoppedAt;
    coordinator.child.kill("SIGKILL");
    await coordinator.result;
    for (const w of results) {
      assert.equal(w.code, 4, w.stderr);
      assert.match(
        w.stderr,
        /the coordinator sent nothing for \d+\.\d s; it is gone, so this worker stops/,
      );
    }
    assert.ok(tookMs < 10_000, `the workers took ${tookMs} ms to leave`);
  } finally {
    await server.shutdown();
  }
});

Deno.test("data files reach the workers from the coordinator; unique rows are never given twice across machines", async () => {
  const logins: string[] = [];
  const server = startCountingServer(async (req, url) => {
    if (url.pathname === "/login") logins.push((await req.json()).user);
    return new Response("ok");
  });
  const dir = await tempDir();
  const port = freePort();
  try {
    // The plan's data file is read on the coordinator only; the workers run from another folder.
    const coordinator = spawnCli(
      argv`${ROOT}tests/plans/data_unique.plan.ts --coordinator --listen 127.0.0.1:${port} --expect-workers 2 --token ${TOKEN} --host ${server.url} --users 40 --spawn-rate 200 --run-time 2s --stop-timeout 2s --summary ${dir.path}/summary.json`,
    );
    const workers = [1, 2].map(() =>
      spawnCli(argv`worker --connect ws://127.0.0.1:${port} --token ${TOKEN} --workers 1`, {
        cwd: dir.path,
      })
    );
    const [result, ...workerResults] = await Promise.all([
      coordinator.result,
      ...workers.map((w) => w.result),
    ]);
    assert.equal(result.code, 0, result.stderr);
    for (const w of workerResults) assert.equal(w.code, 0, w.stderr);
    const summary = await readSummary(`${dir.path}/summary.json`);
    assert.equal(logins.length, 40, "each user logged in once");
    assert.equal(new Set(logins).size, 40, `a row given twice: ${logins.sort().join(" ")}`);
    const login = summary.endpoints.find((e) => e.name === "/login");
    assert.equal(login?.requests, 40);
    assert.equal(summary.totals.requests, server.total());
  } finally {
    await dir.remove();
    await server.shutdown();
  }
});

Deno.test("distributed flags are checked before anything runs: one line, exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [argv`${PLAN} --expect-workers 2`, /Cannot use --expect-workers without --coordinator/],
    [
      argv`${PLAN} --coordinator --token x`,
      /say how many worker processes to wait for with --expect-workers N/,
    ],
    [
      argv`${PLAN} --coordinator --expect-workers 2 --token x --workers 2`,
      /Cannot use --workers with --coordinator/,
    ],
    [
      argv`${PLAN} --coordinator --expect-workers 2 --token x --listen 7400`,
      /Cannot listen on "7400": give HOST:PORT/,
    ],
    [
      argv`${PLAN} --coordinator --expect-workers 2 --token x --tls-cert a.pem`,
      /give both --tls-cert and --tls-key/,
    ],
    [
      argv`${PLAN} --coordinator --expect-workers 2 --token x --plan-loader import`,
      /Cannot use --plan-loader import with --coordinator/,
    ],
    [
      argv`worker --connect http://127.0.0.1:7400`,
      /Cannot join a coordinator at "http:\/\/127\.0\.0\.1:7400": give --connect ws:\/\/HOST:PORT/,
    ],
    [
      argv`worker --connect ws://127.0.0.1:7400 --name coordinator`,
      /option '--name <name>' argument 'coordinator' is invalid/,
    ],
  ];
  for (const [args, expected] of cases) {
    const { code, stderr } = await runCli(args);
    assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
    assert.match(stderr, expected);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
  }
});
