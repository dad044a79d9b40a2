// A small shop API to aim load at: some latency jitter and a few errors, like a real service.
// Run alone: deno run -A examples/target.ts [port]   (default 8000)

/** A running target server and what it has served, by "METHOD /route". */
export interface Target {
  url: string;
  counts: Map<string, number>;
  shutdown(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const jitter = (minMs: number, maxMs: number) => minMs + Math.random() * (maxMs - minMs);
const PRODUCTS = Array.from(
  { length: 20 },
  (_, i) => ({ id: i + 1, name: `product ${i + 1}`, price: 5 + i }),
);

/** Starts the shop on 127.0.0.1 (`port` 0 picks a free one). */
export function startTarget(port = 0): Target {
  const counts = new Map<string, number>();
  const count = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const path = url.pathname;
    if (req.method === "GET" && path === "/products") {
      count("GET /products");
      await sleep(jitter(5, 30));
      return Response.json(PRODUCTS);
    }
    if (req.method === "GET" && path.startsWith("/item/")) {
      count("GET /item/:id");
      await sleep(jitter(10, 60));
      const id = Number(path.slice("/item/".length));
      if (!Number.isInteger(id) || id < 1 || id > PRODUCTS.length) {
        return Response.json({ error: "no such item" }, { status: 404 });
      }
      return Response.json(PRODUCTS[id - 1]);
    }
    if (req.method === "POST" && path === "/cart") {
      count("POST /cart");
      await req.body?.cancel();
      await sleep(jitter(20, 120));
      // One cart in fifty fails, as carts do.
      if (Math.random() < 0.02) {
        return Response.json({ error: "cart service down" }, { status: 503 });
      }
      return Response.json({ ok: true }, { status: 201 });
    }
    if (req.method === "POST" && path === "/ping") {
      count("POST /ping");
      await req.body?.cancel();
      return new Response("pong");
    }
    count(`${req.method} other`);
    return new Response("not found", { status: 404 });
  });
  const address = server.addr as Deno.NetAddr;
  return { url: `http://127.0.0.1:${address.port}`, counts, shutdown: () => server.shutdown() };
}

if (import.meta.main) {
  const target = startTarget(Number(Deno.args[0] ?? 8000));
  console.log(`shop target listening on ${target.url}`);
}
