import assert from "node:assert/strict";
import {
  ConsoleRecorder,
  finalTables,
  fitToWidth,
  formatMs,
  liveLine,
  liveView,
  overloadWarning,
  progressBar,
} from "./console.ts";
import type { FinalSnapshot, IntervalSnapshot } from "../core/recorder/types.ts";
import type { EndpointStats } from "../core/stats/types.ts";
import { intervalSnapshot } from "../core/recorder/test_fixtures.ts";
import { endpointStats } from "../core/stats/test_fixtures.ts";

function stats(over: Partial<EndpointStats>): EndpointStats {
  return endpointStats({
    method: "GET",
    name: "/a",
    requests: 200,
    failures: 4,
    rps: 20,
    failuresPerSec: 0.4,
    minMs: 1.5,
    maxMs: 250,
    meanMs: 30,
    percentilesMs: { "50": 12.5, "90": 40, "95": 60, "99": 120, "99.9": 240 },
    statuses: { "200": 196, "500": 4 },
    ...over,
  });
}

const view = {
  durationMs: 10_000,
  total: stats({ method: "", name: "Aggregated" }),
  endpoints: [stats({})],
};

Deno.test("the live line shows elapsed/total, users, current RPS, failures and percentiles", () => {
  const snapshot: IntervalSnapshot = intervalSnapshot({
    elapsedMs: 12_400,
    runTimeMs: 30_000,
    users: 20,
    workers: 2,
    window: view,
    cumulative: view,
  });
  const line = liveLine(snapshot);
  assert.match(
    line,
    /^\[12s \/ 30s, 18s left\] users 20 \| 20\.0 req\/s \| failures 2\.00% \| p50 12\.5 ms {2}p95 60\.0 ms {2}p99 120 ms/,
  );
  assert.match(liveLine({ ...snapshot, runTimeMs: null }), /^\[12s \/ ∞\] users 20/);
  const stage = { stage: 2, users: 40, durationMs: 10_000, startedAtMs: 0 };
  assert.match(liveLine(snapshot, stage), /^\[12s \/ 30s, 18s left\] stage 2 \| users 20/);
});

Deno.test("on a terminal, a run with a known end shows a progress bar, elapsed, left and the stage", () => {
  const snapshot: IntervalSnapshot = intervalSnapshot({
    at: "2026-01-01T00:00:12.400Z",
    elapsedMs: 12_400,
    runTimeMs: 40_000,
    users: 20,
    workers: 2,
    window: view,
    cumulative: view,
  });
  assert.equal(progressBar(0.25, 8), "[██░░░░░░]");
  assert.equal(progressBar(1.5, 4), "[████]");
  const stage = {
    stage: 2,
    users: 40,
    durationMs: 20_000,
    startedAtMs: Date.parse("2026-01-01T00:00:10Z"),
  };
  assert.match(
    liveView(snapshot, stage),
    /^\[██████░{14}\] 31% 12s \/ 40s, 28s left · stage 2 → 40 users \| users 20 \| 20\.0 req\/s/,
  );
  // Stages without a run time: the current stage's own bar.
  assert.match(
    liveView({ ...snapshot, runTimeMs: null }, stage),
    /^stage 2 → 40 users \[██░{18}\] 2s \/ 20s of the stage, 12s in all \| users 20/,
  );
  // No end and no stage: no bar.
  assert.match(liveView({ ...snapshot, runTimeMs: null }, null), /^\[12s \/ ∞\] users 20/);
  assert.equal(fitToWidth("abcdefgh", 6), "abcd…");
  assert.equal(fitToWidth("abcde", 6), "abcde");
  assert.equal(fitToWidth("abcdefgh", undefined), "abcdefgh");
});

Deno.test("the final tables have every column and the failures", () => {
  const final: FinalSnapshot = {
    at: "",
    elapsedMs: 10_000,
    reason: "completed",
    users: 20,
    usersByKind: {},
    cumulative: view,
    failures: [{ method: "GET", name: "/a", error: "HTTP 500", occurrences: 4 }],
    cells: [],
    histograms: [],
    thresholds: [],
    checks: [],
    iterations: [],
  };
  const text = finalTables(final);
  const [, header, row, total] = text.split("\n");
  assert.deepEqual(header.split(/\s+/), [
    "Type",
    "Name",
    "#",
    "reqs",
    "#",
    "fails",
    "req/s",
    "min",
    "med",
    "p90",
    "p95",
    "p99",
    "p99.9",
    "max",
  ]);
  assert.deepEqual(row.split(/\s+/), [
    "GET",
    "/a",
    "200",
    "4",
    "(2.00%)",
    "20.00",
    "1.50",
    "12.5",
    "40.0",
    "60.0",
    "120",
    "240",
    "250",
  ]);
  assert.match(total, /^\s+Aggregated\s+200/);
  assert.match(text, /Failures\n# occurrences\s+Type\s+Name\s+Error\n4\s+GET\s+\/a\s+HTTP 500/);
});

Deno.test("on a terminal the live view redraws in place; otherwise one line per interval", () => {
  const written: string[] = [];
  const sink = (isTerminal: boolean) => ({
    isTerminal,
    write: (t: string) => void written.push(t),
  });
  const snapshot = intervalSnapshot({
    elapsedMs: 1000,
    users: 1,
    workers: 1,
    window: view,
    cumulative: view,
  });
  new ConsoleRecorder(sink(true), sink(false), { columns: () => 40 }).request.interval(snapshot);
  assert.ok(written[0].startsWith("\r\x1b[2K") && !written[0].endsWith("\n"));
  assert.equal(written[0].length, "\r\x1b[2K".length + 39, "cut to the terminal's width");
  written.length = 0;
  new ConsoleRecorder(sink(false), sink(false)).request.interval(snapshot);
  assert.ok(!written[0].includes("\r") && written[0].endsWith("\n"));
  assert.equal(formatMs(0.123), "0.12");
});

Deno.test("overload warnings say who, how much, and what it does to the latencies", () => {
  assert.equal(
    overloadWarning({
      name: "cpu_warning",
      at: "",
      source: "worker-2",
      data: { cpu_percent: 97.5, threshold_percent: 90, duration_ms: 10_000 },
    }),
    "worker-2 is overloaded: its thread was busy 97.5 % of a core for 10s (limit 90 %); " +
      "latencies include the generator's own delay: add workers, machines or think time",
  );
  assert.match(
    overloadWarning({
      name: "event_loop_lag_warning",
      at: "",
      source: "worker-1",
      data: { lag_p99_ms: 62, threshold_ms: 50 },
    })!,
    /^worker-1 is overloaded: its event loop runs 62 ms late \(p99, limit 50 ms\); latencies/,
  );
  assert.equal(
    overloadWarning({ name: "worker_started", at: "", source: "worker-1", data: {} }),
    null,
  );
});

Deno.test("on a terminal a warning clears the live line and stands on its own line", () => {
  const written: string[] = [];
  const live = { isTerminal: true, write: (t: string) => void written.push(t) };
  const recorder = new ConsoleRecorder(live, { isTerminal: false, write: () => {} }, {
    columns: () => 200,
  });
  const snapshot: IntervalSnapshot = intervalSnapshot({
    at: "2026-01-01T00:00:01Z",
    elapsedMs: 1000,
    runTimeMs: 10_000,
    users: 1,
    workers: 1,
    window: view,
    cumulative: view,
  });
  recorder.request.interval(snapshot);
  recorder.lifecycle.event({
    name: "event_loop_lag_warning",
    at: "",
    source: "worker-1",
    data: { lag_p99_ms: 80, threshold_ms: 50 },
  });
  recorder.request.interval({ ...snapshot, elapsedMs: 2000 });
  // Live line, clear, the warning with its newline, then the live line again below it.
  assert.ok(written[0].startsWith("\r\x1b[2K[██"));
  assert.equal(written[1], "\r\x1b[2K");
  assert.match(written[2], /^stampede: warning: worker-1 is overloaded: .*\n$/);
  assert.ok(written[3].startsWith("\r\x1b[2K[████"));
});

Deno.test("the final tables end with thresholds and checks when the final data carries them", () => {
  const final = {
    at: "",
    elapsedMs: 10_000,
    reason: "completed" as const,
    users: 20,
    usersByKind: {},
    cumulative: view,
    failures: [],
    cells: [],
    histograms: [],
    thresholds: [],
    checks: [],
    iterations: [],
  };
  assert.doesNotMatch(finalTables(final), /Thresholds|Checks/);
  const text = finalTables({
    ...final,
    thresholds: [
      { metric: "http.duration", expression: "p(95)<50", value: 60, limit: 50, ok: false },
      { metric: "http.failures", expression: "rate<0.01", value: 0, limit: 0.01, ok: true },
    ],
    checks: [{ name: "status is 200", passes: 196, fails: 4 }],
    iterations: [],
  } as FinalSnapshot);
  assert.match(
    text,
    /\nThresholds: 1 crossed\nCROSSED\s+http\.duration\s+p\(95\)<50\s+observed 60\s*\nok\s+http\.failures\s+rate<0\.01\s+observed 0/,
  );
  assert.match(
    text,
    /\nChecks\n\s+Check\s+Passes\s+Fails\s+Passed\n✗\s+status is 200\s+196\s+4\s+98\.00%\n$/,
  );
});
