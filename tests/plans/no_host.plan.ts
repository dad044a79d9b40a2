import { definePlan } from "../../mod.ts";

export default definePlan({
  users: { u: { tasks: { t: ({ http }) => http.get("/") } } },
});
