import assert from "node:assert/strict";
import { LoadWorker } from "./load_worker.ts";
import type { FromWorker } from "./protocol.ts";
import { constant, definePlan } from "../plan/plan.ts";
import { createRunInfo } from "../run_info.ts";
import { testInit } from "./test_fixtures.ts";

Deno.test("a user running synchronous tasks back to back does not starve its worker", async () => {
  // Each task holds the event loop for 60 ms (longer than the 50 ms starvation threshold), with
  // no think time. The worker must still get its timers in after every such task: its stats go
  // out about once per task, not once per several tasks.
  const TASK_MS = 60;
  const TASKS = 8;
  let tasks = 0;
  const statsAtTask: number[] = [];
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => stopped = resolve);
  const plan = definePlan({
    users: {
      spinner: {
        wait: constant(0),
        tasks: {
          spin: ({ record }) => {
            const startMs = performance.now();
            while (performance.now() - startMs < TASK_MS) { /* hold the event loop */ }
            record({ type: "CPU", name: "spin", durationMs: TASK_MS });
            if (++tasks === TASKS) stopped();
          },
        },
      },
    },
  });
  const worker = new LoadWorker(
    (message: FromWorker) => {
      if (message.type === "stats") statsAtTask.push(tasks);
    },
    plan,
    { sampleSystem: false },
  );
  await worker.handle(testInit({
    run: createRunInfo({ testplan: "spin", host: "http://127.0.0.1:1" }),
    statsIntervalMs: 20,
  }));
  await worker.handle({ type: "users", counts: { spinner: 1 } });
  await done;
  await worker.handle({ type: "stop", timeoutMs: 5_000 });
  const during = statsAtTask.filter((n) => n > 0 && n < TASKS);
  // One interval per task once the loop runs (a yield every 8th task would give one or two).
  assert.ok(during.length >= TASKS - 3, `stats sent after tasks ${statsAtTask.join(",")}`);
});
