// A plan with a typo in a key: `user` for `users` in its load.
import { definePlan } from "../../../mod.ts";

export default definePlan({
  users: { u: { tasks: { home: ({ http }) => http.get("/") } } },
  // @ts-expect-error: the typo this plan exists to show
  load: { user: 6 },
});
