import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { RecorderRegistry } from "./registry.ts";
import type { RecorderPlugin } from "./types.ts";

Deno.test("the registry names the known recorders when an id is unknown", async () => {
  const registry = new RecorderRegistry().register(
    "console",
    () => Promise.resolve({ id: "console", create: () => ({}) }),
  );
  assert.equal((await registry.load("console")).id, "console");
  await assert.rejects(() => registry.load("nosuch"), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.match(e.message, /no such recorder; use one of console or a path/);
    return true;
  });
  await assert.rejects(() => registry.load("./missing_recorder.ts"), /Cannot load recorder/);
});

Deno.test("two recorders with one id are refused before the run", async () => {
  const registry = new RecorderRegistry().register(
    "console",
    () => Promise.resolve({ id: "console", create: () => ({}) }),
  );
  const mine: RecorderPlugin = { id: "console", create: () => ({}) };
  assert.deepEqual((await registry.loadAll(["console"])).map((p) => p.id), ["console"]);
  await assert.rejects(() => registry.loadAll(["console", mine]), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.equal(
      e.message,
      'Cannot use recorder "console": a recorder with the id "console" is already in the run',
    );
    return true;
  });
});
