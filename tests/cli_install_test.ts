// `deno task install` puts a `stampede` command on the PATH that behaves like `deno run -A cli.ts`.
import assert from "node:assert/strict";
import { argv, readSummary, ROOT, startCountingServer, tempDir } from "./helpers.ts";

Deno.test("the installed stampede command shows its help and runs a plan from another folder", async () => {
  const root = await tempDir();
  const server = startCountingServer();
  try {
    const install = await new Deno.Command(Deno.execPath(), {
      args:
        argv`install --global --allow-all --force --name stampede --root ${root.path} --config ${ROOT}deno.json ${ROOT}cli.ts`,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(install.success, new TextDecoder().decode(install.stderr));
    const stampede = (args: string[]) =>
      new Deno.Command(`${root.path}/bin/stampede`, {
        args,
        cwd: root.path, // not the repository: the command needs no checkout around it
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
    const help = await stampede(["--help"]);
    assert.equal(help.code, 0);
    assert.match(new TextDecoder().decode(help.stdout), /^Usage: stampede \[options\] <plan>/);
    const summaryPath = `${root.path}/summary.json`;
    const result = await stampede(
      argv`${ROOT}tests/plans/counting.plan.ts --host ${server.url} --run-time 1s --workers 1 --stop-timeout 5s --summary ${summaryPath}`,
    );
    assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
    const summary = await readSummary(summaryPath);
    assert.ok(server.total() > 0);
    assert.equal(summary.totals.requests, server.total());
  } finally {
    await server.shutdown();
    await root.remove();
  }
});
