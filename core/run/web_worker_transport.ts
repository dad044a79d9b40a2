// Load workers as Web Workers: one event loop (and core) each, in this process.
import type { FromWorker } from "./protocol.ts";
import type { WorkerTransport } from "./worker_transport.ts";

/** Each load worker in a Web Worker running `load_worker_entry.ts`. */
export const webWorkerTransport: WorkerTransport = {
  open(workerId, events) {
    // The name (`self.name` inside) is the worker's as messages and records show it.
    const worker = new Worker(new URL("./load_worker_entry.ts", import.meta.url), {
      type: "module",
      name: `worker-${workerId}`,
    });
    worker.onmessage = (event: MessageEvent<FromWorker>) => events.message(event.data);
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      events.error(event.message);
    };
    return { post: (message) => worker.postMessage(message), close: () => worker.terminate() };
  },
};
