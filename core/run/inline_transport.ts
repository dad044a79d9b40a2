// One load worker on the coordinator's own event loop (`workers: 0`), running a plan object
// that was handed over directly instead of imported from a module.
import { describeError } from "../errors.ts";
import type { Plan } from "../plan/plan.ts";
import { LoadWorker } from "./load_worker.ts";
import type { WorkerTransport } from "./worker_transport.ts";

/** A transport whose workers run `plan` on this thread; messages still go through a microtask,
 * as they would through a port. */
export function inlineTransport(plan: Plan): WorkerTransport {
  return {
    open(_workerId, events) {
      let closed = false;
      const worker = new LoadWorker((message) => {
        if (!closed) queueMicrotask(() => events.message(message));
      }, plan);
      return {
        post: (message) =>
          void worker.handle(message).catch((error) => {
            if (!closed) events.error(describeError(error));
          }),
        close: () => closed = true,
      };
    },
  };
}
