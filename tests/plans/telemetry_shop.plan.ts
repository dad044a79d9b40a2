// Shoppers and buyers that send the run's facts (ctx.run) to the target, which checks they arrived.
import { between, definePlan } from "../../mod.ts";

export default definePlan({
  name: "telemetry-shop",
  users: {
    browser: {
      weight: 3,
      wait: between(0.005, 0.02),
      tasks: {
        list: ({ http, run }) =>
          http.get("/products", {
            headers: { "x-run-id": run.runId, "x-testplan": run.testplan, "x-team": run.tags.team },
          }),
      },
    },
    buyer: {
      weight: 1,
      wait: between(0.005, 0.02),
      tasks: {
        buy: {
          weight: 4,
          run: ({ http }) => http.post("/cart", { json: { id: 7 } }),
        },
        // A task that fails by throwing: counted under TASK, the user goes on.
        restock: () => {
          throw new Error("out of stock");
        },
      },
    },
  },
  load: { users: 8, spawnRate: 100 },
});
