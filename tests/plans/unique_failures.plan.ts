// A task that fails with a different text every time, as `new Error("order " + id)` does.
import { definePlan } from "../../mod.ts";

let n = 0;
export default definePlan({
  name: "unique-failures",
  users: {
    shopper: {
      tasks: {
        order: () => {
          n++;
          throw new Error(`order ${n} of session 5f1c${n}aa0b not found (took 0.${n}s)`);
        },
      },
    },
  },
});
