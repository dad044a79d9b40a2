// Two kinds of users hitting three endpoints, one of them with dynamic URLs grouped by name.
import { between, definePlan } from "../../mod.ts";

export default definePlan({
  name: "counting",
  users: {
    reader: {
      weight: 3,
      wait: between(0.005, 0.02),
      tasks: {
        list: { weight: 3, run: ({ http }) => http.get("/a") },
        item: {
          weight: 1,
          run: ({ http }) =>
            http.get(`/item/${Math.floor(Math.random() * 1000)}`, { name: "/item/:id" }),
        },
      },
    },
    writer: {
      weight: 1,
      wait: between(0.005, 0.02),
      tasks: { write: ({ http }) => http.post("/b", { json: { n: 1 } }) },
    },
  },
  load: { users: 8, spawnRate: 100 },
});
