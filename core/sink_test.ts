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

Deno.test("a write to a full disk throws once, later writes are dropped", () => {
  const sink = openFileSink("/dev/full", { what: "JSON file" });
  assert.throws(
    () => sink.write("{}\n"),
    /^Error: Cannot write JSON file "\/dev\/full": .*No space left on device.*; later writes are dropped/,
  );
  sink.write("{}\n"); // dropped, not thrown again
  sink.close?.();
});

/** A 64 KB tmpfs, where the test may mount one (root on Linux). */
function smallDisk(): string | null {
  if (Deno.build.os !== "linux") return null;
  const dir = Deno.makeTempDirSync();
  const mounted = new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir],
    stderr: "null",
  }).outputSync().success;
  if (!mounted) Deno.removeSync(dir);
  return mounted ? dir : null;
}
const disk = smallDisk();

Deno.test({
  name: "a file on a disk that fills up ends with a whole write, never half a line",
  ignore: disk === null, // needs a tmpfs mount (root on Linux)
  fn: () => {
    try {
      const path = `${disk}/records.ndjson`;
      const sink = openFileSink(path, { what: "JSON file" });
      const line = JSON.stringify({ filler: "x".repeat(1000) }) + "\n";
      let lines = 0;
      assert.throws(() => {
        for (let i = 0; i < 1000; i++) {
          sink.write(line);
          lines++;
        }
      }, /No space left on device/);
      sink.close?.();
      const text = Deno.readTextFileSync(path);
      assert.equal(text.length, lines * line.length);
      assert.ok(text.endsWith("}\n"));
    } finally {
      new Deno.Command("umount", { args: [disk!] }).outputSync();
      Deno.removeSync(disk!, { recursive: true });
    }
  },
});
