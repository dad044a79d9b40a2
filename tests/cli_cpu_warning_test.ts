// A plan whose task burns CPU without pause saturates its load worker: after 10 s above 90 % of
// a core the coordinator emits one cpu_warning for that worker.
import assert from "node:assert/strict";
import { argv, ROOT, runCli, startCountingServer, tempDir } from "./helpers.ts";

const PLAN = `${ROOT}tests/plans/telemetry_cpu_burn.plan.ts`;

Deno.test({
  name: "a worker busy for 10 s gets one cpu_warning event, and the coordinator none",
  ignore: Deno.build.os !== "linux", // thread CPU time comes from /proc
  fn: async () => {
    const server = startCountingServer();
    const dir = await tempDir();
    try {
      const out = `${dir.path}/out.ndjson`;
      const result = await runCli(
        argv`${PLAN} --host ${server.url} --workers 1 --run-time 13s --recorder json --json-file ${out}`,
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
    } finally {
      await server.shutdown();
      await dir.remove();
    }
  },
});
