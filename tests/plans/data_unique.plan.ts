// Each user logs in once with an account of its own (unique rows across workers), then browses.
import { csv, definePlan } from "../../mod.ts";

export default definePlan({
  name: "data-unique",
  data: { accounts: csv("data/accounts.csv", { order: "unique" }) },
  users: {
    shopper: {
      wait: "20ms",
      onStart: ({ http, data }) => http.post("/login", { json: data.accounts.next() }),
      tasks: { browse: ({ http }) => http.get("/products") },
    },
  },
});
