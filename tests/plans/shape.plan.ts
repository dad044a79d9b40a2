// A load shape: 2 users for a second, then 6, then the run ends; an admin kind of exactly 1 user.
import { definePlan } from "../../mod.ts";

export default definePlan({
  name: "shape",
  users: {
    admin: { fixed: 1, wait: "20ms", tasks: { audit: ({ http }) => http.get("/admin") } },
    shopper: { wait: "20ms", tasks: { browse: ({ http }) => http.get("/products") } },
  },
  load: { shape: (s) => s < 1 ? { users: 2 } : s < 2 ? { users: 6 } : null },
});
