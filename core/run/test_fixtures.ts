// What the run's unit tests build again and again: a load worker's init message and the HTTP
// settings in it, with the run's defaults, for a test to override what it is about.
import { createRunInfo } from "../run_info.ts";
import type { HttpSettings, ToWorker } from "./protocol.ts";

/** A load worker's init message. */
export type InitMessage = Extract<ToWorker, { type: "init" }>;

/** HTTP settings of a run against nothing (127.0.0.1:1), h1, a 1 s timeout. */
export const TEST_HTTP: HttpSettings = {
  host: "http://127.0.0.1:1",
  engine: "h1",
  insecure: false,
  timeoutMs: 1000,
  headers: {},
};

/** An init message for worker 1 of 1, no plan URL, default stats settings; `overrides` win. */
export function testInit(overrides: Partial<InitMessage> = {}): InitMessage {
  return {
    type: "init",
    workerId: 1,
    planUrl: "",
    run: createRunInfo({ testplan: "test", host: TEST_HTTP.host }),
    statsIntervalMs: 1000,
    maxNames: 500,
    workers: 1,
    arrivals: [],
    iterations: null,
    http: TEST_HTTP,
    data: [],
    ...overrides,
  };
}
