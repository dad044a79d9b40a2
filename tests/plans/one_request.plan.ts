// One request per iteration, no think time: what the target counts is what was started.
import { definePlan } from "../../mod.ts";

export default definePlan({
  name: "one-request",
  users: { api: { tasks: { get: ({ http }) => http.get("/") } } },
});
