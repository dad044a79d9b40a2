// Each user makes one request, then keeps its load worker's event loop busy for 3 s without a
// pause: no timer, no stats message, nothing runs on that thread meanwhile.
import { definePlan } from "../../mod.ts";

export default definePlan({
  name: "cpu-saturated",
  users: {
    burner: {
      tasks: {
        burn: async ({ http }) => {
          await http.get("/burn");
          const startMs = performance.now();
          let x = 0;
          while (performance.now() - startMs < 3000) x += Math.sqrt(x + 1);
        },
      },
    },
  },
  load: { users: 1 },
});
