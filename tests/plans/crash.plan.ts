// Users on the workers in CRASH_WORKERS misbehave after their first request:
// CRASH_MODE=throw throws from a timer (outside any task); CRASH_MODE=close ends the worker.
import { constant, definePlan } from "../../mod.ts";

const crashing = (Deno.env.get("CRASH_WORKERS") ?? "").split(",").filter(Boolean).map(Number);
const mode = Deno.env.get("CRASH_MODE") ?? "throw";

export default definePlan({
  name: "crash",
  users: {
    u: {
      wait: constant(0.01),
      tasks: {
        t: async ({ http, user }) => {
          await http.get("/t");
          if (!crashing.includes(Math.floor(user.id / 1_000_000))) return;
          if (mode === "close") {
            setTimeout(() => (globalThis as unknown as { close(): void }).close(), 300);
          } else {
            setTimeout(() => {
              throw new Error("kaboom");
            }, 0);
          }
        },
      },
    },
  },
  load: { users: 4 },
});
