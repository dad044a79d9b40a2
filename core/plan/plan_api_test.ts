import assert from "node:assert/strict";
import * as mod from "../../mod.ts";
import { StopUser, UsageError } from "../errors.ts";
import { PLAN_API } from "./plan_api.ts";

Deno.test("a bundled plan sees every value mod.ts exports, under the same names", () => {
  assert.deepEqual(Object.keys(PLAN_API).sort(), Object.keys(mod).sort());
});

Deno.test("a bundled plan gets this process's own values, so StopUser is recognised", () => {
  for (const [name, value] of Object.entries(mod)) {
    if (name === "run") continue;
    assert.equal(PLAN_API[name], value, name);
  }
  assert.equal(PLAN_API.StopUser, StopUser);
});

Deno.test("run() inside a bundled plan says why it cannot run", async () => {
  const run = PLAN_API.run as () => Promise<unknown>;
  await assert.rejects(run(), (error) => {
    assert.ok(error instanceof UsageError);
    assert.match(
      error.message,
      /^Cannot call run\(\) from a plan loaded by the bundle plan loader/,
    );
    return true;
  });
});
