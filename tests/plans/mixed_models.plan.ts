// Three load models in one run: a closed-model kind, an arrival-rate kind, and a paced one.
import { constantPacing, definePlan } from "../../mod.ts";

export default definePlan({
  name: "mixed-models",
  users: {
    browser: { wait: "10ms", tasks: { page: ({ http }) => http.get("/page") } },
    checkout: {
      arrival: { rate: "50/s", users: 2, maxLateness: "1s" },
      tasks: { buy: ({ http }) => http.post("/buy") },
    },
    paced: {
      fixed: 1,
      wait: constantPacing("100ms"),
      tasks: { ping: ({ http }) => http.get("/ping") },
    },
  },
  load: { users: 3 },
});
