// Two kinds of users on three endpoints, each request carrying the run's facts (ctx.run), so the
// target can check that remote load workers got them as the coordinator sent them.
import { between, definePlan } from "../../mod.ts";

export default definePlan({
  name: "distributed",
  users: {
    reader: {
      weight: 3,
      wait: between(0.005, 0.02),
      tasks: {
        list: {
          weight: 3,
          run: ({ http, run }) =>
            http.get("/a", {
              headers: {
                "x-run-id": run.runId,
                "x-testplan": run.testplan,
                "x-team": run.tags.team,
              },
            }),
        },
        item: ({ http }) =>
          http.get(`/item/${Math.floor(Math.random() * 1000)}`, { name: "/item/:id" }),
      },
    },
    writer: {
      weight: 1,
      wait: between(0.005, 0.02),
      tasks: { write: ({ http }) => http.post("/b", { json: { n: 1 } }) },
    },
  },
  load: { users: 6 },
});
