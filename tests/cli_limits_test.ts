// Bounded memory whatever a plan does: unique URLs without a name fold into one (other) row per
// method past --max-names, on the workers as on the coordinator; unique failure texts are grouped
// (numbers and ids as placeholders) and capped. Totals stay exact against the target's count.
import assert from "node:assert/strict";
import { argv, ROOT, runCliWithSummary, startCountingServer, tempDir } from "./helpers.ts";
import { readRecords } from "./json_records.ts";

Deno.test("unique URLs for 15 s: 500 rows and one (other), exact totals, the coordinator's memory bounded", async () => {
  const server = startCountingServer();
  const dir = await tempDir();
  try {
    const records = `${dir.path}/records.jsonl`;
    const result = await runCliWithSummary(
      argv`${ROOT}tests/plans/unique_urls.plan.ts --host ${server.url} --users 20 --run-time 15s --workers 2 --recorder json --json-file ${records}`,
    );
    assert.equal(result.code, 0, result.stderr);
    const { summary } = result;
    const received = server.total();
    assert.ok(received > 50_000, `only ${received} unique URLs`);
    assert.equal(summary.endpoints.length, 501);
    const other = summary.endpoints.find((e) => e.name === "(other)")!;
    assert.ok(other.requests > received / 2, `${other.requests} in (other)`);
    assert.equal(summary.totals.requests + summary.totals.aborted, received);
    assert.match(
      result.stderr,
      /More than 500 distinct request names for GET: the rest are counted as \(other\)/,
    );
    const memory = (await readRecords(records)).filter((r) =>
      r.telemetry_name === "stampede.system.metric.mem" && r.source === "coordinator"
    );
    assert.ok(memory.length > 5);
    const peakMb = Math.max(...memory.map((r) => r.rss_bytes as number)) / 1e6;
    // Measured 390 MB for the whole process (coordinator and both workers) on this machine;
    // before the caps, 200 names took 700 MB and 2 000 took 2.8 GB.
    assert.ok(peakMb < 700, `peak RSS ${peakMb.toFixed(0)} MB`);
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});

Deno.test("a million distinct failure texts are one row each way they differ, counted exactly", async () => {
  const result = await runCliWithSummary(
    argv`${ROOT}tests/plans/unique_failures.plan.ts --host http://127.0.0.1:9 --users 4 --iterations 1000000 --workers 2 --exit-code-on-error 0`,
    { timeoutMs: 120_000 },
  );
  assert.equal(result.code, 0, result.stderr);
  const { summary } = result;
  assert.equal(summary.stop_reason, "iterations");
  assert.equal(summary.totals.failures, 1_000_000);
  assert.deepEqual(summary.failures, [{
    method: "TASK",
    name: "order",
    error: "Error: order <n> of session <id> not found (took <n>s)",
    occurrences: 1_000_000,
  }]);
});
