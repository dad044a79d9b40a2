// --csv PREFIX: Locust's four CSV files, checked column by column against the files Locust itself
// wrote (tests/fixtures/locust_csv/, from Debian's python3-locust; regenerate with
// tests/fixtures/locust_csv/generate.ts) and against a fresh Locust run of the same shapes.
import assert from "node:assert/strict";
import { parse } from "csv-parse/sync";
import { argv, ROOT, runCli, runCliWithSummary, startCountingServer, tempDir } from "./helpers.ts";
import { locustTarget, runLocust } from "./locust_helpers.ts";

const PLAN = `${ROOT}tests/plans/locust_csv.plan.ts`;
const FIXTURE = `${ROOT}tests/fixtures/locust_csv/locust`;
const SUFFIXES = ["_stats.csv", "_stats_history.csv", "_failures.csv", "_exceptions.csv"];

/** A CSV file's rows; every line must end in CRLF, as Python's csv.writer ends them. */
async function readCsv(path: string): Promise<string[][]> {
  const text = await Deno.readTextFile(path);
  assert.ok(text.endsWith("\r\n"), `${path} does not end in CRLF`);
  assert.equal(text.replace(/"[^"]*"/g, "").split("\n").length - 1, text.match(/\r\n/g)?.length);
  return parse(text, { relax_column_count: false });
}

/** What a cell holds, as a spreadsheet or script would read it. */
function kind(cell: string): string {
  if (/^-?\d+$/.test(cell)) return "int";
  if (/^-?\d+\.\d+(e[+-]\d+)?$/.test(cell)) return "float";
  if (cell === "N/A") return "N/A";
  return cell === "" ? "empty" : "text";
}

/** Asserts the same columns, one by one, naming the first that differs. */
function assertSameColumns(ours: string[], theirs: string[], file: string): void {
  for (let i = 0; i < Math.max(ours.length, theirs.length); i++) {
    assert.equal(
      ours[i],
      theirs[i],
      `${file}, column ${i + 1}: Stampede "${ours[i]}", Locust "${theirs[i]}"`,
    );
  }
}

/** Asserts that each column of two rows holds the same kind of value (int, float, N/A, text). */
function assertSameKinds(ours: string[], theirs: string[], header: string[], file: string): void {
  header.forEach((column, i) => {
    assert.equal(
      kind(ours[i]),
      kind(theirs[i]),
      `${file}, column "${column}": Stampede "${ours[i]}", Locust "${theirs[i]}"`,
    );
  });
}

Deno.test("--csv PREFIX writes Locust's four files, column by column as Locust's own", async () => {
  const server = startCountingServer(locustTarget);
  const dir = await tempDir();
  try {
    const prefix = `${dir.path}/run`;
    const result = await runCliWithSummary(
      argv`${PLAN} --host ${server.url} --workers 2 --run-time 3s --stats-interval 500ms --csv ${prefix} --exit-code-on-error 0`,
    );
    assert.equal(result.code, 0, result.stderr);
    const [stats, history, failures, exceptions] = await Promise.all(
      SUFFIXES.map((s) => readCsv(prefix + s)),
    );
    const [locustStats, locustHistory, locustFailures, locustExceptions] = await Promise.all(
      SUFFIXES.map((s) => readCsv(FIXTURE + s)),
    );
    assertSameColumns(stats[0], locustStats[0], "_stats.csv");
    assertSameColumns(history[0], locustHistory[0], "_stats_history.csv");
    assertSameColumns(failures[0], locustFailures[0], "_failures.csv");
    assertSameColumns(exceptions[0], locustExceptions[0], "_exceptions.csv");
    // Each column holds what Locust's holds: ints where it writes ints, floats where floats.
    for (
      const [ours, theirs, file] of [
        [stats, locustStats, "_stats.csv"],
        [history, locustHistory, "_stats_history.csv"],
        [failures, locustFailures, "_failures.csv"],
        [exceptions, locustExceptions, "_exceptions.csv"],
      ] as const
    ) {
      assertSameKinds(ours.at(-1)!, theirs.at(-1)!, theirs[0], file);
    }
    const header = stats[0];
    const rows = stats.slice(1).map((r) => Object.fromEntries(header.map((c, i) => [c, r[i]])));

    // The endpoint rows: what the server saw, sorted by name as Locust sorts them; no TASK row.
    const summary = result.summary;
    assert.deepEqual(rows.map((r) => `${r.Type} ${r.Name}`), [
      'GET /500, "quoted"',
      "GET /a",
      "POST /b",
      " Aggregated",
    ]);
    for (const row of rows.slice(0, -1)) {
      const endpoint = summary.endpoints.find((e) => e.method === row.Type && e.name === row.Name)!;
      assert.equal(Number(row["Request Count"]), endpoint.requests, row.Name);
      assert.equal(Number(row["Failure Count"]), endpoint.failures, row.Name);
      assert.ok(Number(row["100%"]) >= Number(row["50%"]));
    }
    assert.ok(Number(rows[1]["Request Count"]) <= server.counts.get("GET /a")!);
    // Aggregated counts requests only, as Locust's does: the TASK rows are in the exceptions.
    const task = summary.endpoints.find((e) => e.method === "TASK" && e.name === "boom")!;
    assert.ok(task.requests > 0);
    const aggregated = rows.at(-1)!;
    assert.equal(Number(aggregated["Request Count"]), summary.totals.requests - task.requests);
    assert.equal(Number(aggregated["Failure Count"]), summary.totals.failures - task.failures);

    assert.deepEqual(failures.slice(1), [[
      "GET",
      '/500, "quoted"',
      "HTTP 500",
      String(summary.endpoints.find((e) => e.name === '/500, "quoted"')!.failures),
    ]]);
    assert.deepEqual(exceptions.slice(1), [[
      String(task.failures),
      "Error: boom",
      'in task "boom"',
      "local",
    ]]);

    // A history row per stats interval (Aggregated only), its totals growing to the end's.
    const intervals = history.slice(1);
    assert.ok(intervals.length >= 4, `${intervals.length} history rows`);
    const total = (row: string[]) => Number(row[history[0].indexOf("Total Request Count")]);
    for (let i = 0; i < intervals.length; i++) {
      assert.deepEqual(intervals[i].slice(2, 4), ["", "Aggregated"]);
      if (i > 0) assert.ok(total(intervals[i]) >= total(intervals[i - 1]));
    }
    assert.ok(total(intervals.at(-1)!) <= Number(aggregated["Request Count"]));
    // The files were written whole: nothing temporary is left beside them.
    const names = [...Deno.readDirSync(dir.path)].map((e) => e.name).sort();
    assert.deepEqual(names, SUFFIXES.map((s) => `run${s}`).sort());
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});

Deno.test("Locust itself (Debian's python3-locust), run now, writes the headers of the fixture and of --csv", async () => {
  const server = startCountingServer(locustTarget);
  const dir = await tempDir();
  try {
    await runLocust(server.url, `${dir.path}/locust`);
    assert.ok(server.total() > 0, "Locust sent no request");
    const stampede = `${dir.path}/stampede`;
    const result = await runCli(
      argv`${PLAN} --host ${server.url} --workers 1 --run-time 1s --exit-code-on-error 0 --csv ${stampede} --recorder json --json-file ${dir.path}/out.ndjson`,
    );
    assert.equal(result.code, 0, result.stderr);
    for (const suffix of SUFFIXES) {
      const fresh = await readCsv(`${dir.path}/locust${suffix}`);
      assertSameColumns((await readCsv(FIXTURE + suffix))[0], fresh[0], `fixture ${suffix}`);
      assertSameColumns((await readCsv(stampede + suffix))[0], fresh[0], suffix);
    }
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});

Deno.test("--csv-full-history: a history row for every endpoint and Aggregated each interval", async () => {
  const server = startCountingServer(locustTarget);
  const dir = await tempDir();
  try {
    const prefix = `${dir.path}/full`;
    // STAMPEDE_CSV turns the recorder on as --csv does.
    const result = await runCli(
      argv`${PLAN} --host ${server.url} --workers 1 --run-time 2s --stats-interval 500ms --csv-full-history --exit-code-on-error 0`,
      { env: { STAMPEDE_CSV: prefix } },
    );
    assert.equal(result.code, 0, result.stderr);
    const [header, ...rows] = await readCsv(`${prefix}_stats_history.csv`);
    // Each interval's rows end with its Aggregated row.
    const blocks: string[][][] = [[]];
    for (const row of rows) {
      blocks.at(-1)!.push(row);
      if (row[3] === "Aggregated") blocks.push([]);
    }
    const intervals = blocks.slice(0, -1);
    assert.ok(intervals.length >= 3, `${intervals.length} intervals`);
    const last = intervals.at(-1)!;
    assert.deepEqual(last.map((r) => r[3]), ['/500, "quoted"', "/a", "/b", "Aggregated"]);
    assert.ok(last.every((r) => r[0] === last[0][0]), "one timestamp per interval");
    const p50 = header.indexOf("50%");
    for (const row of last) assert.equal(kind(row[p50]), "int", row.join(","));
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});

Deno.test("--csv into a folder that does not exist fails before the first request; --recorder csv needs --csv", async () => {
  const server = startCountingServer();
  const dir = await tempDir();
  try {
    const missing = await runCli(
      argv`${PLAN} --host ${server.url} --workers 1 --run-time 1s --csv ${dir.path}/no/such/run`,
    );
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /Cannot write CSV file ".*\/no\/such\/run_stats\.csv": /);
    const bare = await runCli(
      argv`${PLAN} --host ${server.url} --workers 1 --run-time 1s --recorder csv`,
    );
    assert.equal(bare.code, 2, bare.stderr);
    assert.match(
      bare.stderr,
      /Cannot use recorder "csv": it needs a file prefix; pass --csv PREFIX/,
    );
    assert.equal(server.total(), 0);
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});

Deno.test("run(plan, { csv, report }) turns both recorders on from code, beside the ones named", async () => {
  const { run } = await import("../run.ts");
  const server = startCountingServer(locustTarget);
  const dir = await tempDir();
  try {
    const summary = await run(PLAN, {
      host: server.url,
      workers: 1,
      runTime: "1s",
      recorders: [],
      csv: `${dir.path}/lib`,
      report: `${dir.path}/lib.html`,
    });
    const [header, ...rows] = await readCsv(`${dir.path}/lib_stats.csv`);
    assert.equal(header[0], "Type");
    const task = summary.endpoints.find((e) => e.method === "TASK");
    assert.equal(Number(rows.at(-1)![2]), summary.totals.requests - (task?.requests ?? 0));
    assert.match(await Deno.readTextFile(`${dir.path}/lib.html`), /<title>locust-csv: /);
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});
