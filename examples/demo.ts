// `deno task demo`: starts the bundled shop target and runs the shop plan against it for 20 s.
import { startTarget } from "./target.ts";

const target = startTarget(0);
console.log(`shop target on ${target.url}; running examples/shop.plan.ts for 20s\n`);
const cli = new URL("../cli.ts", import.meta.url).pathname;
const plan = new URL("./shop.plan.ts", import.meta.url).pathname;
const child = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", cli, plan, "--host", target.url, ...Deno.args],
  stdin: "null",
}).spawn();
const status = await child.status;
await target.shutdown();
console.log(
  `\nthe target served ${[...target.counts.values()].reduce((a, b) => a + b, 0)} requests`,
);
Deno.exit(status.code);
