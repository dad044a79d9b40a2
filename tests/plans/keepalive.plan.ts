// Each iteration: a GET and a POST whose body names it uniquely (user and iteration), so a
// server can tell a POST that arrived twice; KEEPALIVE_WAIT_S seconds of think time after it.
import { definePlan } from "../../mod.ts";

const WAIT_S = Number(Deno.env.get("KEEPALIVE_WAIT_S") ?? "0");

export default definePlan({
  name: "keepalive",
  users: {
    shopper: {
      wait: () => WAIT_S,
      tasks: {
        shop: async ({ http, user, state }) => {
          const n = state.n = (state.n as number ?? 0) + 1;
          await http.get("/item");
          await http.post("/order", { json: { id: `${user.index}-${n}` } });
        },
      },
    },
  },
});
