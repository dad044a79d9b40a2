/// <reference lib="deno.worker" />
// The Web Worker script: wires a LoadWorker to the worker's message port.
import { describeError, explainError } from "../errors.ts";
import { IN_LOAD_WORKER, LoadWorker } from "./load_worker.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";

const post = (message: FromWorker) => self.postMessage(message);
// A plan module that calls run() at its top level would start a run inside each worker that
// imports it: run() checks this mark and fails with a clear line instead (see run.ts).
(globalThis as Record<symbol, unknown>)[IN_LOAD_WORKER] = true;
const worker = new LoadWorker(post);
let workerId = 0;

self.onmessage = (event: MessageEvent<ToWorker>) => {
  if (event.data.type === "init") workerId = event.data.workerId;
  worker.handle(event.data).catch((error) =>
    post({ type: "failed", workerId, message: explainError(error) })
  );
};

// An error a task throws outside its own flow (a timer, a promise it forgot to await) must not
// take the worker and its users down: it is reported, a few times at most, and the users go on.
const MAX_STRAY_REPORTS = 10;
let strayReports = 0;
function reportStray(what: string, error: unknown): void {
  if (strayReports++ >= MAX_STRAY_REPORTS) return;
  const more = strayReports === MAX_STRAY_REPORTS ? " (further ones are not reported)" : "";
  post({
    type: "warning",
    workerId,
    message: `${what} outside a task: ${describeError(error)}${more}`,
  });
}
self.addEventListener("error", (event) => {
  event.preventDefault();
  reportStray("uncaught error", event.error ?? event.message);
});
self.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  reportStray("unhandled rejection", event.reason);
});
