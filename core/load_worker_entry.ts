/// <reference lib="deno.worker" />
// The Web Worker script: wires a LoadWorker to the worker's message port.
import { describeError } from "./errors.ts";
import { LoadWorker } from "./load_worker.ts";
import type { FromWorker, ToWorker } from "./messages.ts";

const worker = new LoadWorker((message: FromWorker) => self.postMessage(message));
let workerId = 0;

self.onmessage = (event: MessageEvent<ToWorker>) => {
  if (event.data.type === "init") workerId = event.data.workerId;
  worker.handle(event.data).catch((error) =>
    self.postMessage({ type: "failed", workerId, message: describeError(error) })
  );
};

// A promise a task forgot to await must not take the worker (and its users) down.
self.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  self.postMessage(
    {
      type: "warning",
      workerId,
      message: `unhandled rejection in a task: ${describeError(event.reason)}`,
    } satisfies FromWorker,
  );
});
