// The verdict for CI: thresholds decide the exit code (99 when one is crossed), they show in the
// console, the summary and JUnit XML (checked by a schema and by a JUnit parser), abortOnFail
// stops a run early with exact counts, and without thresholds failed requests exit 1.
import assert from "node:assert/strict";
import {
  argv,
  assertValidJunit,
  freePort,
  ROOT,
  runCli,
  runCliWithSummary,
  startCountingServer,
  tempDir,
} from "./helpers.ts";

const PLAN = `${ROOT}tests/plans/counting.plan.ts`;

/** A target whose /b (the writer's endpoint) takes 30 ms and /a fails one request in ten. */
function target() {
  let n = 0;
  return startCountingServer(async (_req, url) => {
    if (url.pathname === "/b") await new Promise((resolve) => setTimeout(resolve, 30));
    if (url.pathname === "/a" && ++n % 10 === 0) return new Response("no", { status: 500 });
    return new Response("ok");
  });
}

Deno.test("thresholds that hold exit 0; a crossed one exits 99 and says what it observed, everywhere", async () => {
  const server = target();
  const dir = await tempDir();
  try {
    const held = await runCliWithSummary([
      ...argv`${PLAN} --host ${server.url} --run-time 2s --workers 2 --stop-timeout 5s`,
      ...argv`--threshold ${"http.duration: p(95)<5000"} --threshold ${"http.reqs: count>10"}`,
    ]);
    assert.equal(held.code, 0, held.stderr);
    assert.ok(held.summary.thresholds.every((t) => t.ok));
    assert.equal(held.summary.totals.requests, server.total());

    const junit = `${dir.path}/results.xml`;
    const crossed = await runCliWithSummary([
      ...argv`${PLAN} --host ${server.url} --run-time 2s --workers 2 --junit ${junit}`,
      ...argv`--threshold ${"http.duration{name:/b}: p(95)<10"}`,
      ...argv`--threshold ${"http.duration{name:/a}: p(95)<5000"}`,
      ...argv`--threshold ${"http.failures{name:/a}: rate<0.01"}`,
    ]);
    assert.equal(crossed.code, 99, crossed.stderr);
    const [slow, fast, failing] = crossed.summary.thresholds;
    // A filter sees its own endpoint only: /b takes 30 ms, /a does not.
    assert.deepEqual([slow.metric, slow.expression, slow.ok], [
      "http.duration{name:/b}",
      "p(95)<10",
      false,
    ]);
    assert.ok(slow.value! >= 30, `p95 of /b: ${slow.value}`);
    assert.equal(fast.ok, true);
    assert.ok(fast.value! < 30, `p95 of /a: ${fast.value}`);
    assert.equal(failing.ok, false);
    assert.ok(Math.abs(failing.value! - 0.1) < 0.03, `failure rate of /a: ${failing.value}`);
    // The console's final table names each crossed threshold and its value.
    assert.match(crossed.stdout, /Thresholds: 2 crossed/);
    assert.match(
      crossed.stdout,
      /CROSSED\s+http\.duration\{name:\/b\}\s+p\(95\)<10\s+observed 3\d/,
    );
    const xml = await Deno.readTextFile(junit);
    assert.match(xml, /<testcase classname="http.duration\{name:\/b\}" name="p\(95\)&lt;10"/);
    assert.match(xml, /<failure type="threshold" message="p\(95\)&lt;10: observed 3\d/);
    await assertValidJunit(junit);
    // An independent reader of JUnit XML (Debian's python3-junitparser) sees the same cases.
    const parsed = await new Deno.Command("/usr/bin/python3", {
      args: [
        "-c",
        "import sys, junitparser; x = junitparser.JUnitXml.fromfile(sys.argv[1]); " +
        "print(*[(c.classname, c.name, 'failed' if not c.is_passed else 'ok') for s in x for c in s], sep='\\n')",
        junit,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (parsed.success) {
      assert.deepEqual(new TextDecoder().decode(parsed.stdout).trim().split("\n"), [
        "('http.duration{name:/b}', 'p(95)<10', 'failed')",
        "('http.duration{name:/a}', 'p(95)<5000', 'ok')",
        "('http.failures{name:/a}', 'rate<0.01', 'failed')",
      ]);
    } else {
      assert.match(new TextDecoder().decode(parsed.stderr), /No module named 'junitparser'/);
    }
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});

Deno.test("abortOnFail stops the run early with stop reason threshold, the final stats exact", async () => {
  const server = target();
  const dir = await tempDir();
  try {
    const plan = `${dir.path}/abort.plan.ts`;
    await Deno.writeTextFile(
      plan,
      `import { definePlan } from "${ROOT}mod.ts";
export default definePlan({
  users: { u: { wait: "5ms", tasks: { a: ({ http }) => http.get("/a") } } },
  load: { users: 4 },
  thresholds: { "http.failures": [{ threshold: "rate<0.01", abortOnFail: true, delayAbortEval: "1s" }] },
});
`,
    );
    const result = await runCliWithSummary(
      argv`${plan} --host ${server.url} --run-time 30s --workers 1 --stop-timeout 5s`,
      { timeoutMs: 25_000 },
    );
    assert.equal(result.code, 99, result.stderr);
    assert.equal(result.summary.stop_reason, "threshold");
    assert.ok(result.summary.duration_s < 5, `stopped after ${result.summary.duration_s} s`);
    assert.equal(result.summary.totals.requests, server.total());
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});

Deno.test("without thresholds, failed requests exit 1, or what --exit-code-on-error says", async () => {
  const refused = `http://127.0.0.1:${freePort()}`;
  const failing = await runCli(argv`${PLAN} --host ${refused} --run-time 1s --workers 1`);
  assert.equal(failing.code, 1, failing.stderr);
  assert.match(failing.stdout, /ConnectionRefused/);
  const off = await runCli(
    argv`${PLAN} --host ${refused} --run-time 1s --workers 1 --exit-code-on-error 0`,
  );
  assert.equal(off.code, 0, off.stderr);
  const custom = await runCli(
    argv`${PLAN} --host ${refused} --run-time 1s --workers 1 --exit-code-on-error 7`,
  );
  assert.equal(custom.code, 7);
});

Deno.test("a bad threshold flag is refused before any request with exit code 2", async () => {
  const server = target();
  try {
    const flag = await runCli(
      argv`${PLAN} --host ${server.url} --threshold ${"http.latency: p(95)<1"}`,
    );
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /^stampede: error: Cannot use threshold metric "http\.latency"/);
    const baseline = await runCli(
      argv`${PLAN} --host ${server.url} --threshold ${"http.duration: p(95) < baseline * 1.1"}`,
    );
    assert.equal(baseline.code, 2);
    assert.match(baseline.stderr, /pass --baseline SUMMARY\.json/);
    assert.equal(server.total(), 0);
  } finally {
    await server.shutdown();
  }
});
