import assert from "node:assert/strict";
import { createRunInfo } from "../../core/run_info.ts";
import type { RecorderContext } from "../../core/recorder/types.ts";
import { reportRecorder } from "./recorder.ts";

function context(options: Record<string, unknown>): RecorderContext {
  return {
    run: createRunInfo({ testplan: "shop", host: "http://127.0.0.1:1" }),
    options,
    percentiles: [50],
    statsIntervalMs: 1_000,
    stdout: { write: () => {}, isTerminal: false },
    stderr: { write: () => {}, isTerminal: false },
  };
}

Deno.test("the report is written once, at the stop, with uPlot read from its npm package", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/report.html`;
    const recorder = await reportRecorder.create(context({ report: path }));
    await recorder.output!.stop("failed");
    const html = await Deno.readTextFile(path);
    assert.match(html, /\/\*! https:\/\/github\.com\/leeoniya\/uPlot \(v1\.6\.32\) \*\//);
    assert.match(html, /\.uplot/);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["report.html"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a report path that cannot be written, or none, stops the run before it starts", async () => {
  await assert.rejects(
    async () => await reportRecorder.create(context({ report: "/no/such/folder/report.html" })),
    /Cannot write report file "\/no\/such\/folder\/report\.html": /,
  );
  await assert.rejects(
    async () => await reportRecorder.create(context({})),
    /pass --report PATH\.html/,
  );
});
