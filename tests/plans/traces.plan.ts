// Bounded iterations for the traces tests: each user runs TRACES_ITERATIONS iterations (default
// 20), each a GET /traced, every fifth also a GET /redirect that the target sends on to /traced.
import { definePlan, StopUser } from "../../mod.ts";

const ITERATIONS = Number(Deno.env.get("TRACES_ITERATIONS") ?? "20");

export default definePlan({
  name: "traces",
  users: {
    visitor: {
      tasks: {
        visit: async ({ http, state }) => {
          const n = state.n = (state.n as number ?? 0) + 1;
          if (n > ITERATIONS) throw new StopUser();
          await http.get("/traced");
          if (n % 5 === 0) await http.get("/redirect");
        },
      },
    },
  },
});
