import assert from "node:assert/strict";
import { UsageError } from "./errors.ts";
import { checkWritable, openFileSink, writeFileAtomic } from "./sink.ts";

Deno.test("an output path is checked before the run: a missing folder or a folder fails with its reason", async () => {
  const dir = await Deno.makeTempDir();
  try {
    checkWritable(`${dir}/summary.json`, "summary file");
    assert.deepEqual([...Deno.readDirSync(dir)], [], "the check leaves nothing behind");
    for (const bad of [`${dir}/missing/summary.json`, dir]) {
      assert.throws(() => checkWritable(bad, "summary file"), (e: unknown) => {
        assert.ok(e instanceof UsageError);
        assert.ok(e.message.startsWith(`Cannot write summary file "${bad}": `), e.message);
        return true;
      });
    }
    assert.throws(
      () => openFileSink(`${dir}/missing/x.ndjson`, { what: "JSON file" }),
      /^UsageError: Cannot open JSON file/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an atomic write replaces the file whole and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/summary.json`;
    await writeFileAtomic(path, "first\n");
    await writeFileAtomic(path, "second\n");
    assert.equal(await Deno.readTextFile(path), "second\n");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["summary.json"]);
    await assert.rejects(() => writeFileAtomic(`${dir}/missing/s.json`, "x"));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["summary.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
