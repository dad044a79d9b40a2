// Recorder plugins of one's own: the CSV example loaded by path, its option and metadata, and a
// plugin that throws everywhere, which neither stops the run nor the other recorders.
import assert from "node:assert/strict";
import { CSV_COLUMNS } from "../examples/interval_csv_recorder.ts";
import { argv, readSummary, ROOT, runCli, startCountingServer, tempDir } from "./helpers.ts";

function parseCsv(text: string): Record<string, string>[] {
  const [header, ...rows] = text.trimEnd().split("\n").map((line) => line.split(","));
  return rows.map((row) => Object.fromEntries(header.map((column, i) => [column, row[i]])));
}

Deno.test("--recorder ./examples/interval_csv_recorder.ts: its option, its metadata, a line per interval", async () => {
  const server = startCountingServer();
  const dir = await tempDir();
  try {
    const csv = `${dir.path}/results.csv`;
    const json = `${dir.path}/out.ndjson`;
    const result = await runCli(
      argv`tests/plans/telemetry_shop.plan.ts --host ${server.url} --exit-code-on-error 0 --workers 2 --run-time 3s --stop-timeout 2s --recorder ./examples/interval_csv_recorder.ts,json --csv-file ${csv} --json-file ${json} --summary ${dir.path}/summary.json`,
      { cwd: ROOT },
    );
    assert.equal(result.code, 0, result.stderr);
    const summary = await readSummary(`${dir.path}/summary.json`);
    const text = await Deno.readTextFile(csv);
    assert.equal(text.split("\n")[0], CSV_COLUMNS.join(","));
    const rows = parseCsv(text);
    const intervals = rows.filter((r) => r.kind === "interval");
    const finals = rows.filter((r) => r.kind === "final");
    assert.ok(intervals.length >= 2, text);
    assert.equal(finals.length, 1);
    assert.equal(Number(finals[0].requests), summary.totals.requests);
    for (const row of rows) {
      assert.equal(row.run_id, summary.run_id);
      assert.equal(row.testplan, "telemetry-shop");
    }
    assert.ok(Number(intervals.at(-1)!.max_cpu_percent) >= 0, "system samples reached it");
    // The plugin's metadata is on every record of every recorder.
    const records = (await Deno.readTextFile(json)).trimEnd().split("\n").map((l) => JSON.parse(l));
    for (const r of records) assert.deepEqual(r.metadata, { csv_file: csv });

    // A second run appends to the file, under the same header, through the env var.
    const again = await runCli(
      argv`tests/plans/telemetry_shop.plan.ts --host ${server.url} --exit-code-on-error 0 --workers 1 --run-time 1s --recorder ./examples/interval_csv_recorder.ts`,
      { cwd: ROOT, env: { STAMPEDE_CSV_FILE: csv } },
    );
    assert.equal(again.code, 0, again.stderr);
    const both = parseCsv(await Deno.readTextFile(csv));
    assert.equal(both.filter((r) => r.kind === "final").length, 2);
    assert.equal(new Set(both.map((r) => r.run_id)).size, 2);
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});

Deno.test("a plugin's options show in --help once --recorder names it", async () => {
  const result = await runCli(argv`--recorder ./examples/interval_csv_recorder.ts --help`, {
    cwd: ROOT,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /--csv-file <path>\s+\[interval-csv\]/);
  assert.match(result.stdout, /STAMPEDE_CSV_FILE/);
});

Deno.test("a recorder that throws in every handler stops neither the run nor the json recorder", async () => {
  const server = startCountingServer();
  const dir = await tempDir();
  try {
    const json = `${dir.path}/out.ndjson`;
    const result = await runCli(
      argv`tests/plans/telemetry_shop.plan.ts --host ${server.url} --exit-code-on-error 0 --workers 2 --run-time 2s --stop-timeout 2s --recorder ./tests/plans/telemetry_throwing_recorder.ts,json --json-file ${json} --summary ${dir.path}/summary.json`,
      { cwd: ROOT },
    );
    assert.equal(result.code, 0, result.stderr);
    const summary = await readSummary(`${dir.path}/summary.json`);
    assert.ok(summary.problems.some((p) => p.includes('recorder "throwing"')), result.stderr);
    const records = (await Deno.readTextFile(json)).trimEnd().split("\n").map((l) => JSON.parse(l));
    const final = records.find((r) => r.stats_type === "final");
    assert.equal(final?.requests, summary.totals.requests);
    assert.equal(records.at(-1).telemetry_name, "stampede.event.test.stop");
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});
