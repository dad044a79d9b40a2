// Benchmark plan: users request "/" back to back, no think time.
import { constant, definePlan } from "../../mod.ts";

export default definePlan({
  name: "bench-flat",
  users: { u: { wait: constant(0), tasks: { get: async ({ http }) => void await http.get("/") } } },
});
