// Users on the workers in CRASH_WORKERS misbehave after their first request:
// CRASH_MODE=throw throws from a timer (outside any task); CRASH_MODE=close ends the worker.
import { constant, definePlan } from "../../mod.ts";

const crashing = (Deno.env.get("CRASH_WORKERS") ?? "").split(",").filter(Boolean).map(Number);
// A load worker's Web Worker is named after it: "worker-2".
const worker = Number((globalThis as { name?: string }).name?.replace("worker-", "") ?? 0);
const mode = Deno.env.get("CRASH_MODE") ?? "throw";

export default definePlan({
  name: "crash",
  users: {
    u: {
      wait: constant(0.01),
      tasks: {
        t: async ({ http }) => {
          await http.get("/t");
          if (!crashing.includes(worker)) return;
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
