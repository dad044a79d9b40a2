// The demo plan: shoppers browse, look at items and sometimes buy; a bot pings.
// deno run -A cli.ts examples/shop.plan.ts --host http://127.0.0.1:8000
import { between, constant, definePlan } from "../mod.ts";

export default definePlan({
  name: "shop",
  host: "http://127.0.0.1:8000",
  users: {
    shopper: {
      weight: 3,
      wait: between(0.5, 2),
      tasks: {
        browse: { weight: 5, run: ({ http }) => http.get("/products") },
        item: {
          weight: 2,
          run: async ({ http }) => {
            // One id in twenty-one is unknown: a 404, reported as a failure.
            const id = 1 + Math.floor(Math.random() * 21);
            await http.get(`/item/${id}`, { name: "/item/:id" });
          },
        },
        buy: {
          weight: 1,
          run: ({ http }) => http.post("/cart", { json: { id: 7, qty: 1 } }),
        },
      },
    },
    bot: {
      weight: 1,
      wait: constant(0.2),
      tasks: { ping: ({ http }) => http.post("/ping", { json: { a: 1 } }) },
    },
  },
  load: { users: 20, spawnRate: 10, duration: "20s" },
  // The service objectives: the exit code is 99 when one is crossed. About one item request in
  // twenty-one is an unknown id (a 404), so failures stay under 5 % of the /item/:id requests.
  thresholds: {
    "http.duration": ["p(95)<500", "p(99.9)<2000"],
    "http.failures": ["rate<0.05"],
    "http.failures{name:/item/:id}": ["rate<0.15"],
  },
});
