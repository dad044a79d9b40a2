// A minimal OTLP/HTTP sink for the benchmark: accepts every export and counts the bytes.
// deno run -A bench/otlp_sink.ts  → prints its port on the first line.
let bytes = 0;
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
  bytes += (await req.arrayBuffer()).byteLength;
  return new Response(null, { status: 200, headers: { "content-type": "application/x-protobuf" } });
});
console.log((server.addr as Deno.NetAddr).port);
Deno.addSignalListener("SIGTERM", () => {
  console.log(`received ${bytes} bytes`);
  Deno.exit(0);
});
