// Users that request /delay back to back: the server decides the latency.
import { constant, definePlan } from "../../mod.ts";

export default definePlan({
  name: "flat-out",
  users: {
    u: { wait: constant(0), tasks: { delay: ({ http }) => http.get("/delay") } },
  },
  load: { users: 20, spawnRate: 1000 },
});
