// A recorder plugin whose every handler throws: the run and the other recorders must go on.
import type { RecorderPlugin } from "../../recorder.ts";

const fail = () => {
  throw new Error("this recorder always fails");
};

export default {
  id: "throwing",
  create: () => ({
    output: { stop: fail },
    lifecycle: { event: fail },
    request: { interval: fail, final: fail },
    system: { samples: fail },
  }),
} satisfies RecorderPlugin;
