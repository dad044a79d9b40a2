// Two user kinds on endpoints with different latencies and some failures, and a third at an
// arrival rate (its iterations, target rate and corrected latency), for the Prometheus tests.
import { between, definePlan } from "../../mod.ts";

export default definePlan({
  name: "prometheus_shop",
  users: {
    shopper: {
      weight: 2,
      wait: between(0.005, 0.02),
      tasks: {
        fast: { weight: 3, run: ({ http }) => http.get("/fast") },
        slow: { weight: 3, run: ({ http }) => http.get("/slow") },
        item: {
          weight: 1,
          run: ({ http }) =>
            http.get(`/item/${Math.floor(Math.random() * 100)}`, { name: "/item/:id" }),
        },
      },
    },
    buyer: {
      weight: 1,
      wait: between(0.005, 0.02),
      tasks: { cart: ({ http }) => http.post("/cart", { json: { id: 7 } }) },
    },
    restocker: {
      arrival: { rate: "20/s", users: 1 },
      tasks: { restock: ({ http }) => http.get("/restock") },
    },
  },
  load: { users: 6, spawnRate: 100 },
});
