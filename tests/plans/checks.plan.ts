// Checks three ways: a per-request check that turns an empty cart (a 200) into a failure, a
// request's named check on its status, and a named ctx.check on a response body.
import { definePlan } from "../../mod.ts";

export default definePlan({
  name: "checks",
  users: {
    shopper: {
      wait: "5ms",
      tasks: {
        cart: ({ http }) =>
          http.get("/cart", {
            check: async (res) =>
              (await res.json<{ items: string[] }>()).items.length > 0 || "no items in body",
          }),
        status: ({ http }) =>
          http.get("/status", { check: { "status is 200": (res) => res.status === 200 } }),
        products: async ({ http, check }) => {
          const res = await http.get("/products");
          check("three products listed", (await res.json<unknown[]>()).length === 3);
        },
      },
    },
  },
});
