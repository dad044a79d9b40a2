// Run-to-run comparison: `stampede compare` flags a target 50 % slower, and a threshold against
// a baseline run fails the build; two runs of the same target pass both.
import assert from "node:assert/strict";
import { argv, ROOT, runCli, startCountingServer, tempDir } from "./helpers.ts";

const PLAN = `${ROOT}tests/plans/flat_out.plan.ts`;

/** A target whose /delay answers after `delayMs()`. */
function delayed(delayMs: () => number) {
  return startCountingServer(async () => {
    await new Promise((resolve) => setTimeout(resolve, delayMs()));
    return new Response("ok");
  });
}

Deno.test("compare flags p95 of a 50 % slower target, and a baseline threshold fails; the same target passes", async () => {
  let delayMs = 50;
  const server = delayed(() => delayMs);
  const dir = await tempDir();
  try {
    const summary = (name: string) => `${dir.path}/${name}.json`;
    const runTo = (name: string, extra: string[] = []) =>
      runCli([
        ...argv`${PLAN} --host ${server.url} --users 10 --run-time 2s --workers 1`,
        ...argv`--stop-timeout 5s --summary ${summary(name)}`,
        ...extra,
      ]);
    assert.equal((await runTo("base")).code, 0);
    assert.equal((await runTo("same")).code, 0);
    delayMs = 75;
    const slower = await runTo("slower", [
      "--baseline",
      summary("base"),
      "--threshold",
      "http.duration: p(95) < baseline * 1.10",
    ]);
    assert.equal(slower.code, 99, slower.stdout + slower.stderr);
    const crossed = slower.stdout.match(
      /CROSSED\s+http\.duration\s+p\(95\) < baseline \* 1\.10\s+observed (\d+\.?\d*)\s+limit (\d+\.?\d*)/,
    );
    assert.ok(crossed, slower.stdout);
    assert.ok(Number(crossed[1]) > Number(crossed[2]) && Number(crossed[1]) >= 75, crossed[0]);

    const flagged = await runCli(["compare", summary("base"), summary("slower")]);
    assert.equal(flagged.code, 99, flagged.stderr);
    assert.match(flagged.stdout, /Aggregated .* → \d+\.\d\d \(\+[2-7]\d\.\d%\) !/);
    assert.match(flagged.stdout, /Regressed beyond the tolerance/);

    const same = await runCli(["compare", summary("base"), summary("same")]);
    assert.equal(same.code, 0, same.stdout);
    assert.match(same.stdout, /No change beyond the tolerance/);

    const missing = await runCli(["compare", summary("base"), summary("nope")]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^stampede: error: Cannot read summary ".*nope\.json"/);
  } finally {
    await server.shutdown();
    await dir.remove();
  }
});
