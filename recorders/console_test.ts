import assert from "node:assert/strict";
import { ConsoleRecorder, finalTables, formatMs, liveLine, overloadWarning } from "./console.ts";
import type { FinalSnapshot, IntervalSnapshot } from "../core/recorder/types.ts";
import type { EndpointStats } from "../core/stats/types.ts";

function stats(over: Partial<EndpointStats>): EndpointStats {
  return {
    method: "GET",
    name: "/a",
    requests: 200,
    failures: 4,
    aborted: 0,
    bytes: 0,
    rps: 20,
    failuresPerSec: 0.4,
    minMs: 1.5,
    maxMs: 250,
    meanMs: 30,
    percentilesMs: { "50": 12.5, "90": 40, "95": 60, "99": 120, "99.9": 240 },
    statuses: { "200": 196, "500": 4 },
    ...over,
  };
}

const view = {
  durationMs: 10_000,
  total: stats({ method: "", name: "Aggregated" }),
  endpoints: [stats({})],
};

Deno.test("the live line shows elapsed/total, users, current RPS, failures and percentiles", () => {
  const snapshot: IntervalSnapshot = {
    at: "",
    elapsedMs: 12_400,
    runTimeMs: 30_000,
    users: 20,
    usersByKind: {},
    workers: 2,
    window: view,
    cumulative: view,
    cells: [],
    failures: [],
  };
  const line = liveLine(snapshot);
  assert.match(
    line,
    /^\[12s \/ 30s\] users 20 \| 20\.0 req\/s \| failures 2\.00% \| p50 12\.5 ms {2}p95 60\.0 ms {2}p99 120 ms/,
  );
  assert.match(liveLine({ ...snapshot, runTimeMs: null }), /\[12s \/ ∞\]/);
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
  const snapshot = {
    at: "",
    elapsedMs: 1000,
    runTimeMs: null,
    users: 1,
    usersByKind: {},
    workers: 1,
    window: view,
    cumulative: view,
    cells: [],
    failures: [],
  };
  new ConsoleRecorder(sink(true), sink(false)).request.interval(snapshot);
  assert.ok(written[0].startsWith("\r\x1b[2K") && !written[0].endsWith("\n"));
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
