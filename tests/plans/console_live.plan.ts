// A user that keeps its load worker's event loop busy (an overload warning within seconds) and
// asks for two names of one method (past --max-names 1: a warning through the log).
import { constant, definePlan } from "../../mod.ts";

export default definePlan({
  name: "console-live",
  users: {
    busy: {
      wait: constant(0),
      tasks: {
        burn: async ({ http }) => {
          const startMs = performance.now();
          let x = 0;
          while (performance.now() - startMs < 150) x += Math.sqrt(x + 1);
          await http.get("/a");
        },
        other: ({ http }) => http.get("/b"),
      },
    },
  },
  load: { users: 2 },
});
