// A plan whose task burns CPU without pause saturates its load worker: after 10 s above 90 % of
// a core the coordinator emits one cpu_warning for that worker, its event loop lags, and both are
// said where people look: on the console and in the summary.
import assert from "node:assert/strict";
import { argv, ROOT, runCliWithSummary, startCountingServer, tempDir } from "./helpers.ts";

const PLAN = `${ROOT}tests/plans/telemetry_cpu_burn.plan.ts`;

Deno.test({
  name: "a worker busy for 10 s: one cpu_warning, a lag warning, on the console and in the summary",
  ignore: Deno.build.os !== "linux", // thread CPU time comes from /proc
  fn: async () => {
    const server = startCountingServer();
    const dir = await tempDir();
    try {
      const out = `${dir.path}/out.ndjson`;
      const result = await runCliWithSummary(
        argv`${PLAN} --host ${server.url} --workers 1 --run-time 13s --recorder console,json --json-file ${out}`,
      );
      assert.equal(result.code, 0, result.stderr);
      const records = (await Deno.readTextFile(out)).trimEnd().split("\n").map((l) =>
        JSON.parse(l)
      );
      const warnings = records.filter((r) => r.telemetry_name === "stampede.event.cpu.warning");
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      const [warning] = warnings;
      assert.equal(warning.source, "worker-1");
      assert.equal(warning.level, "WARN");
      assert.equal(warning.threshold_percent, 90);
      assert.ok(warning.duration_ms >= 10_000, `duration ${warning.duration_ms}`);
      // Busy: on a core, or ready to run and waiting for one (the machine may be shared).
      assert.ok(warning.cpu_percent + (warning.cpu_wait_percent ?? 0) > 90);
      const stop = records.findIndex((r) => r.telemetry_name === "stampede.event.test.stop");
      assert.ok(records.indexOf(warning) < stop);
      // The busy worker's event loop was blocked by its tasks: the lag shows it too.
      const lags = records.filter((r) =>
        r.telemetry_name === "stampede.system.metric.event_loop_lag" && r.source === "worker-1"
      );
      assert.ok(lags.some((r) => r.event_loop_lag_p99_ms >= 100), JSON.stringify(lags));
      const lagWarnings = records.filter((r) =>
        r.telemetry_name === "stampede.event.event_loop_lag.warning"
      );
      assert.ok(lagWarnings.length >= 1 && lagWarnings.every((r) => r.source === "worker-1"));
      // Said where people look: the console's stderr, its final tables, and the summary.
      assert.match(
        result.stderr,
        /stampede: warning: worker-1 is overloaded: its thread was busy [\d.]+ % of a core.* for 1\ds \(limit 90 %\); latencies include the generator's own delay/,
      );
      assert.match(result.stderr, /worker-1 is overloaded: its event loop runs [\d.]+ ms late/);
      assert.match(result.stdout, /The load generator was overloaded \(worker-1\)/);
      assert.equal(result.summary.generator_overloaded, true);
      assert.ok(result.summary.generator.max_event_loop_lag_p99_ms! >= 100);
      assert.ok(result.summary.generator.warnings.some((w) => w.startsWith("worker-1: busy")));
    } finally {
      await server.shutdown();
      await dir.remove();
    }
  },
});
