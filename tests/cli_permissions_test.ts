// Plans run with the permissions Stampede runs with: under the least-privilege command line the
// docs give (network to the target only, reads in the project, STAMPEDE_* and OTEL_* variables),
// a run works, counts exactly, and a plan's reach for files, the environment, subprocesses or
// other hosts is refused.
import assert from "node:assert/strict";
import { readSummary, ROOT, startCountingServer, tempDir } from "./helpers.ts";

Deno.test("under --allow-net=127.0.0.1 --allow-read=PROJECT --allow-env=STAMPEDE_*,OTEL_*: an exact run, and the plan's reach refused", async () => {
  const server = startCountingServer();
  const dir = await tempDir();
  try {
    const summaryPath = `${dir.path}/summary.json`;
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net=127.0.0.1",
        `--allow-read=${ROOT},${dir.path}`,
        `--allow-write=${dir.path}`,
        "--allow-env=STAMPEDE_*,OTEL_*",
        `${ROOT}cli.ts`,
        `${ROOT}tests/plans/hostile.plan.ts`,
        "--host",
        server.url,
        "--users",
        "2",
        "--iterations",
        "20",
        "--workers",
        "1",
        "--summary",
        summaryPath,
      ],
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    const summary = await readSummary(summaryPath);
    assert.equal(summary.totals.requests, 20);
    assert.equal(server.total(), 20);
    assert.deepEqual(
      summary.checks.map((c) => [c.name, c.passes, c.fails]).sort(),
      [
        ["another host is refused", 20, 0],
        ["reading /etc/passwd is refused", 20, 0],
        ["reading HOME is refused", 20, 0],
        ["running a command is refused", 20, 0],
      ],
    );
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});
