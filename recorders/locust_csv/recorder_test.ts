import assert from "node:assert/strict";
import type { FinalSnapshot, IntervalSnapshot } from "../../core/recorder/types.ts";
import type { EndpointStats, StatsView } from "../../core/stats/types.ts";
import { intervalSnapshot } from "../../core/recorder/test_fixtures.ts";
import { endpointStats } from "../../core/stats/test_fixtures.ts";
import { HISTORY_COLUMNS, STATS_COLUMNS } from "./columns.ts";
import { csvRow } from "./csv_text.ts";
import { csvPaths, LocustCsvRecorder, locustCsvRecorder } from "./recorder.ts";

const total: EndpointStats = endpointStats();
const view: StatsView = { durationMs: 1_000, total, endpoints: [] };

Deno.test("the history streams a row per interval; the other files are written whole at the final", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let history = "";
    let closed = false;
    const recorder = new LocustCsvRecorder({
      prefix: `${dir}/run`,
      fullHistory: false,
      history: { write: (text) => history += text, close: () => closed = true },
    });
    assert.equal(history, csvRow(HISTORY_COLUMNS));
    const snapshot: IntervalSnapshot = intervalSnapshot({
      at: "2026-01-01T00:00:01.000Z",
      elapsedMs: 1_000,
      users: 1,
      workers: 1,
      window: view,
      cumulative: view,
    });
    recorder.request.interval(snapshot);
    recorder.request.interval({ ...snapshot, elapsedMs: 2_000 });
    assert.equal(history.split("\r\n").length - 1, 3);
    const final: FinalSnapshot = {
      at: snapshot.at,
      elapsedMs: 2_000,
      reason: "completed",
      users: 1,
      usersByKind: {},
      cumulative: view,
      failures: [],
      cells: [],
      histograms: [],
      thresholds: [],
      checks: [],
      iterations: [],
    };
    await recorder.request.final(final);
    const stats = await Deno.readTextFile(csvPaths(`${dir}/run`).stats);
    assert.equal(stats.split("\r\n")[0], STATS_COLUMNS.join(","));
    assert.match(stats, /\r\n,Aggregated,0,0,0,0\.0,0,0,0,0\.0,0\.0,N\/A,/);
    await recorder.output.stop();
    assert.ok(closed);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a run that ends without final stats still leaves the three files, with headers only", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const recorder = await locustCsvRecorder.create({
      run: {} as never,
      options: { csv: `${dir}/run` },
      percentiles: [],
      statsIntervalMs: 1_000,
      stdout: { write: () => {}, isTerminal: false },
      stderr: { write: () => {}, isTerminal: false },
    });
    await recorder.output!.stop("failed");
    const paths = csvPaths(`${dir}/run`);
    assert.equal(await Deno.readTextFile(paths.failures), "Method,Name,Error,Occurrences\r\n");
    assert.equal(await Deno.readTextFile(paths.exceptions), "Count,Message,Traceback,Nodes\r\n");
    assert.equal((await Deno.readTextFile(paths.history)).split("\r\n").length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
