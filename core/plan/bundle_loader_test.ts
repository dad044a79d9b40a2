// The bundle plan loader, as a compiled stampede uses it: plans in a folder outside the
// repository, Stampede's API mapped to this process's own, non-local imports refused.
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { PlanError, StopUser } from "../errors.ts";
import { type TaskContext, userKindsOf } from "./plan.ts";
import { loadPlanModule } from "./plan_loader.ts";

const MOD = new URL("../../mod.ts", import.meta.url).href;

/** Writes `files` into a fresh temporary folder; returns its path and a remover. */
async function planFolder(files: Record<string, string>) {
  const dir = await Deno.makeTempDir({ prefix: "stampede-bundle-" });
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(join(dir, name, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, name), text);
  }
  return {
    url: (name: string) => pathToFileURL(join(dir, name)).href,
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Loads `plan.ts` of `files` with the bundle loader; expects a PlanError and returns its text. */
async function refusal(files: Record<string, string>): Promise<string> {
  const folder = await planFolder(files);
  try {
    const error = await loadPlanModule(folder.url("plan.ts"), "bundle").then(
      () => assert.fail("the plan loaded"),
      (error) => error,
    );
    assert.ok(error instanceof PlanError, String(error));
    assert.equal(error.exitCode, 3);
    assert.doesNotMatch(error.message, /\n/, "one line");
    return error.message.replace(folder.url("plan.ts"), "PLAN");
  } finally {
    await folder.remove();
  }
}

Deno.test("a plan outside the repository loads with its local imports, top-level await and import.meta", async () => {
  const folder = await planFolder({
    "lib/helper.ts": `export const helperUrl: string = import.meta.url;
export const data = (await import("./data.json", { with: { type: "json" } })).default;`,
    "lib/data.json": `{ "items": [1, 2, 3] }`,
    "plan.ts": `import { definePlan, StopUser, VERSION } from ${JSON.stringify(MOD)};
import { basename } from "node:path";
import { data, helperUrl } from "./lib/helper.ts";
const waited: number = await new Promise((resolve) => setTimeout(() => resolve(7), 10));
export default definePlan({
  name: [basename(import.meta.url), import.meta.main, helperUrl, data.items.length, waited, VERSION].join(" "),
  users: { u: { tasks: { stop: () => { throw new StopUser(); } } } },
});`,
  });
  try {
    const { plan, planCode } = await loadPlanModule(folder.url("plan.ts"), "bundle");
    const { VERSION } = await import(MOD);
    assert.equal(plan.name, `plan.ts false ${folder.url("lib/helper.ts")} 3 7 ${VERSION}`);
    assert.match(planCode ?? "", /__stampedeSetModule/);
    assert.doesNotMatch(planCode ?? "", /^\s*(import|export)\s/m, "no module syntax is left");
    // The plan's StopUser is this process's own class, so a virtual user recognises it.
    const task = userKindsOf(plan)[0].tasks[0];
    assert.throws(() => task.run({} as TaskContext), (error) => error instanceof StopUser);
  } finally {
    await folder.remove();
  }
});

Deno.test("jsr:@stampede/stampede in a plan is this process's own API", async () => {
  const folder = await planFolder({
    "plan.ts": `import { constant, definePlan } from "jsr:@stampede/stampede@^0.1.0";
export default definePlan({ users: { u: { wait: constant(0.5), tasks: { t: () => {} } } } });`,
  });
  try {
    const { plan } = await loadPlanModule(folder.url("plan.ts"), "bundle");
    assert.equal(userKindsOf(plan)[0].wait(), 0.5);
  } finally {
    await folder.remove();
  }
});

Deno.test("an npm: import is refused with one line that says what to do", async () => {
  const message = await refusal({
    "plan.ts": `import leftPad from "npm:left-pad@1.3.0";
import { definePlan } from ${JSON.stringify(MOD)};
export default definePlan({ users: { u: { tasks: { t: () => { leftPad("x", 2); } } } } });`,
  });
  assert.match(
    message,
    /^Cannot load plan "PLAN": it imports "npm:left-pad@1\.3\.0", which a compiled stampede cannot load; import local files only .*--plan-loader import$/,
  );
});

Deno.test("a remote import in a helper names the helper; a bare specifier is called one", async () => {
  const remote = await refusal({
    "lib/helper.ts": `export { x } from "https://example.com/x.ts";`,
    "plan.ts": `import { x } from "./lib/helper.ts";\nexport default x;`,
  });
  assert.match(
    remote,
    /^Cannot load plan "PLAN": lib\/helper\.ts imports "https:\/\/example\.com\/x\.ts", which a compiled stampede cannot load/,
  );
  const bare = await refusal({ "plan.ts": `import x from "lodash";\nexport default x;` });
  assert.match(
    bare,
    /it imports "lodash", a bare specifier, which a compiled stampede cannot resolve/,
  );
});

Deno.test("a syntax error and a missing module are named with where they are", async () => {
  const syntax = await refusal({ "plan.ts": `export default {\n  users: {\n` });
  assert.match(
    syntax,
    /^Cannot load plan "PLAN": Expected .* but found end of file \(plan\.ts:3:1\)$/,
  );
  const missing = await refusal({ "plan.ts": `import "./nope.ts";` });
  assert.match(
    missing,
    /^Cannot load plan "PLAN": Module not found "file:\/\/.*\/nope\.ts" \(plan\.ts:1:8\)$/,
  );
});
