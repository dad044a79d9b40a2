// A plan that loads on the coordinator but never in a load worker (a Web Worker).
import { definePlan } from "../../mod.ts";

if ("WorkerGlobalScope" in globalThis) await new Promise(() => {});

export default definePlan({
  name: "never-in-workers",
  users: { u: { tasks: { home: ({ http }) => http.get("/") } } },
});
