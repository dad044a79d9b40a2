import assert from "node:assert/strict";
import { createRunInfo } from "../run_info.ts";
import { LoadWorker } from "./load_worker.ts";
import { withPlanCode } from "./plan_code_transport.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";
import { type InitMessage, testInit } from "./test_fixtures.ts";
import type { WorkerTransport } from "./worker_transport.ts";

/** What a bundle looks like to a worker: code whose free names are the bundle's parameters. */
const PLAN_CODE = `const plan = { default: __stampedeMod.definePlan({
  users: { u: { tasks: { t: () => {} } } },
}) };
__stampedeSetModule(plan);`;

/** The plan URL of a bundled plan is only its name: nothing is imported from there. */
const NOWHERE = "file:///nonexistent/plan.ts";

function init(planCode?: string): InitMessage {
  return testInit({
    planUrl: NOWHERE,
    planCode,
    run: createRunInfo({ testplan: "bundled", host: "http://127.0.0.1:1" }),
  });
}

Deno.test("withPlanCode adds the code to init only, and closes the inner link", () => {
  const posted: ToWorker[] = [];
  let closed = 0;
  const inner: WorkerTransport = {
    open: () => ({ post: (message) => posted.push(message), close: () => closed++ }),
  };
  const link = withPlanCode(inner, PLAN_CODE).open(1, { message() {}, error() {} });
  const { planCode: _, ...plain } = init();
  link.post(plain);
  link.post({ type: "users", counts: { u: 1 } });
  link.close();
  assert.equal((posted[0] as { planCode?: string }).planCode, PLAN_CODE);
  assert.deepEqual(posted[1], { type: "users", counts: { u: 1 } });
  assert.equal(closed, 1);
});

Deno.test("a load worker given planCode evaluates it instead of importing planUrl", async () => {
  const sent: FromWorker[] = [];
  const worker = new LoadWorker((message) => sent.push(message), undefined, {
    sampleSystem: false,
  });
  await worker.handle(init(PLAN_CODE));
  assert.deepEqual(sent.map((m) => m.type), ["ready"]);
  await worker.handle({ type: "stop", timeoutMs: 0 });
});

Deno.test("a load worker whose planCode throws reports failed, naming the plan", async () => {
  const sent: FromWorker[] = [];
  const worker = new LoadWorker((message) => sent.push(message), undefined, {
    sampleSystem: false,
  });
  await worker.handle(init(`throw new Error("no config here");`));
  assert.equal(sent.length, 1);
  assert.equal(sent[0].type, "failed");
  assert.match(
    (sent[0] as { message: string }).message,
    /Cannot load plan "file:\/\/\/nonexistent\/plan\.ts": Error: no config here/,
  );
});
