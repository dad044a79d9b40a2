// A counting target for the network-namespace test, run inside its own namespace:
// `deno run -A tests/netns_target.ts HOST PORT`. Prints "listening" once it is, and on SIGTERM
// the requests it received by "METHOD /path" as one JSON line, then exits.
const [hostname, port] = Deno.args;
const counts: Record<string, number> = {};
Deno.serve({ hostname, port: Number(port), onListen: () => console.log("listening") }, (req) => {
  const path = new URL(req.url).pathname;
  const key = `${req.method} ${path.startsWith("/item/") ? "/item/:id" : path}`;
  counts[key] = (counts[key] ?? 0) + 1;
  return new Response("ok");
});
Deno.addSignalListener("SIGTERM", () => {
  console.log(JSON.stringify(counts));
  Deno.exit(0);
});
