// Users of two kinds on three endpoints, one of which answers 404 (failures), and a task that
// throws (a TASK row without latency): what the otel end-to-end tests export.
import { between, definePlan } from "../../mod.ts";

export default definePlan({
  name: "otel-e2e",
  users: {
    reader: {
      weight: 3,
      wait: between(0.01, 0.03),
      tasks: {
        list: { weight: 4, run: ({ http }) => http.get("/a") },
        missing: { weight: 1, run: ({ http }) => http.get("/missing") },
      },
    },
    writer: {
      weight: 1,
      wait: between(0.01, 0.03),
      tasks: {
        write: {
          weight: 5,
          run: ({ http }) => http.post("/b", { json: { n: 1 } }),
        },
        boom: {
          weight: 1,
          run: () => {
            throw new Error("boom");
          },
        },
      },
    },
  },
  load: { users: 4, spawnRate: 100 },
});
