// The shapes of tests/fixtures/locust_csv/locustfile.py: two endpoints, one failing with a name
// that needs quoting in CSV, and a task that throws (a TASK row: Locust's exceptions file).
import { constant, definePlan } from "../../mod.ts";

export default definePlan({
  name: "locust-csv",
  users: {
    reader: {
      wait: constant(0.05),
      tasks: {
        read: { weight: 3, run: ({ http }) => http.get("/a") },
        write: ({ http }) => http.post("/b", { json: { n: 1 } }),
        broken: ({ http }) => http.get("/500", { name: '/500, "quoted"' }),
        boom: () => {
          throw new Error("boom");
        },
      },
    },
  },
  load: { users: 4 },
});
