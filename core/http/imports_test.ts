import assert from "node:assert/strict";

const HTTP = new URL("./", import.meta.url);

/** Every source file under core/http (tests and the conformance harness left out). */
function* sources(dir: URL): Generator<URL> {
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.isDirectory && entry.name !== "conformance") {
      yield* sources(new URL(`${entry.name}/`, dir));
    } else if (entry.isFile && entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
      yield new URL(entry.name, dir);
    }
  }
}

Deno.test("core/http imports only itself, core/stats and core's shared files", () => {
  const allowed = [new URL("../stats/", HTTP).href, HTTP.href];
  const shared = ["errors.ts", "version.ts", "run_info.ts", "span_sink.ts"].map((f) =>
    new URL(`../${f}`, HTTP).href
  );
  const wrong: string[] = [];
  for (const file of sources(HTTP)) {
    const text = Deno.readTextFileSync(file);
    for (const [, specifier] of text.matchAll(/^(?:import|export)[^"']*["']([^"']+)["']/gm)) {
      if (!specifier.startsWith(".")) continue;
      const target = new URL(specifier, file).href;
      if (!allowed.some((dir) => target.startsWith(dir)) && !shared.includes(target)) {
        wrong.push(`${file.href.slice(HTTP.href.length)} imports ${specifier}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});
