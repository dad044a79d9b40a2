import assert from "node:assert/strict";
import { PlanError } from "../errors.ts";
import { checkKnownKeys, closestKey } from "./keys.ts";

Deno.test("the closest known key is suggested for a typo, none for something else", () => {
  const load = ["users", "spawnRate", "duration"];
  assert.equal(closestKey("user", load), "users");
  assert.equal(closestKey("spawnrate", load), "spawnRate");
  assert.equal(closestKey("duartion", load), "duration");
  assert.equal(closestKey("stages", load), null);
});

Deno.test("an unknown key names its path and the key it was probably meant to be", () => {
  assert.throws(() => checkKnownKeys({ user: 6 }, ["users", "spawnRate"], "load"), (e) => {
    assert.ok(e instanceof PlanError);
    assert.equal(e.message, 'Cannot use plan: unknown key "load.user"; did you mean "load.users"?');
    return true;
  });
  assert.throws(
    () => checkKnownKeys({ thresholds: {} }, ["name", "host", "users"], ""),
    /unknown key "thresholds"; known keys here: name, host, users/,
  );
  checkKnownKeys({ users: 1 }, ["users"], "load");
});
