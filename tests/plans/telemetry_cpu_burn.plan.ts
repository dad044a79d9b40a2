// One user whose task burns CPU without pause: the load generator itself is the bottleneck.
import { constant, definePlan } from "../../mod.ts";

export default definePlan({
  name: "cpu-burn",
  users: {
    burner: {
      wait: constant(0),
      tasks: {
        burn: ({ record }) => {
          const startMs = performance.now();
          let x = 0;
          while (performance.now() - startMs < 200) x += Math.sqrt(x + 1);
          record({ type: "CPU", name: "burn", durationMs: performance.now() - startMs });
        },
      },
    },
  },
  load: { users: 1 },
});
