// An arrival-rate kind with a typo in its arrival: `rte` for `rate`.
import { definePlan } from "../../../mod.ts";

export default definePlan({
  users: {
    // @ts-expect-error: the typo this plan exists to show
    api: { arrival: { rte: "10/s" }, tasks: { home: ({ http }) => http.get("/") } },
  },
});
