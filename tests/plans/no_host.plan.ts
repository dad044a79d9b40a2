import { definePlan } from "../../mod.ts";

export default definePlan({
  users: { u: { tasks: { t: async ({ http }) => void await http.get("/") } } },
});
