// Load workers of a bundled plan: the coordinator bundles the plan once and every worker gets
// the code in its `init`, so workers evaluate it without esbuild (and a compiled stampede's
// workers never try to import the plan's file).
import type { WorkerTransport } from "./worker_transport.ts";

/** `transport`, with `planCode` added to every `init` it delivers. */
export function withPlanCode(transport: WorkerTransport, planCode: string): WorkerTransport {
  return {
    open(workerId, events) {
      const link = transport.open(workerId, events);
      return {
        post: (message) => link.post(message.type === "init" ? { ...message, planCode } : message),
        close: () => link.close(),
      };
    },
  };
}
