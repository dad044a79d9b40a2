import assert from "node:assert/strict";
import { builtinRegistry } from "./builtin.ts";

const ROOT = new URL("../", import.meta.url);

Deno.test("every built-in recorder module is --include'd by `deno task compile`", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const included = [...(config.tasks.compile as string).matchAll(/--include (\S+)/g)]
    .map((m) => m[1]);
  const source = await Deno.readTextFile(new URL("recorders/builtin.ts", ROOT));
  const modules = [...source.matchAll(/import\("\.\/([^"]+)"\)/g)].map((m) => `recorders/${m[1]}`);
  assert.equal(modules.length, builtinRegistry().ids.length, "one module per built-in id");
  for (const module of modules) assert.ok(included.includes(module), `${module} not included`);
});
