// Benchmark plan for memory: each user makes a request, then thinks for 5–10 s.
import { between, definePlan } from "../../mod.ts";

export default definePlan({
  name: "bench-idle",
  users: {
    u: { wait: between(5, 10), tasks: { get: async ({ http }) => void await http.get("/") } },
  },
});
