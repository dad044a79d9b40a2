// Each task fails in its own way; REFUSED_URL points at a port where nothing listens.
import { constant, definePlan } from "../../mod.ts";

const refusedUrl = Deno.env.get("REFUSED_URL") ?? "http://127.0.0.1:1/";

export default definePlan({
  name: "failures",
  users: {
    u: {
      wait: constant(0.02),
      tasks: {
        boom: () => {
          throw new Error("boom");
        },
        server_error: ({ http }) => http.get("/500"),
        refused: ({ http }) => http.get(refusedUrl, { name: "refused" }),
        timeout: ({ http }) => http.get("/hang", { timeoutMs: 200 }),
        fine: ({ http }) => http.get("/ok"),
      },
    },
  },
  load: { users: 4 },
});
