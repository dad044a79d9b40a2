// A plan whose load shape throws: refused when the plan is defined, before any request.
import { definePlan } from "../../../mod.ts";

export default definePlan({
  users: { u: { tasks: { home: ({ http }) => http.get("/") } } },
  load: {
    shape: () => {
      throw new Error("no shape today");
    },
  },
});
