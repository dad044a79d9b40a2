// The most common mistake in a plan: a unique URL per request and no `name` to group them.
import { definePlan } from "../../mod.ts";

let n = 0;
export default definePlan({
  name: "unique-urls",
  users: { crawler: { tasks: { page: ({ http }) => http.get(`/page/${n++}?session=${n}`) } } },
});
