// Each user says who it is once, on start: its run-wide index, its index within its kind, and
// the account `at(index)` gives it. Two kinds, 3:1, so kind indices are checked per kind.
import { csv, definePlan } from "../../mod.ts";

export default definePlan({
  name: "user-identity",
  data: { accounts: csv("data/accounts.csv") },
  users: {
    shopper: {
      weight: 3,
      wait: "20ms",
      onStart: ({ http, user, data }) =>
        http.post("/hello", {
          json: { ...user, account: data.accounts.at(user.index).user },
        }),
      tasks: { browse: ({ http }) => http.get("/products") },
    },
    admin: {
      weight: 1,
      wait: "20ms",
      onStart: ({ http, user, data }) =>
        http.post("/hello", {
          json: { ...user, account: data.accounts.at(user.index).user },
        }),
      tasks: { browse: ({ http }) => http.get("/orders") },
    },
  },
});
