// A worker process's side of the wire, against a scripted coordinator: the plan comes with its
// hash and reaches every load worker, messages are relayed both ways, final stats are
// acknowledged, and the process leaves when it is refused or the coordinator is gone.
import assert from "node:assert/strict";
import { RunError } from "../errors.ts";
import { sealPlan } from "./plan_package.ts";
import { type FromHost, PROTOCOL_VERSION, type ToHost, type ToWorker } from "./protocol.ts";
import type { ClientSocket } from "./websocket_client.ts";
import { testInit } from "./test_fixtures.ts";
import { serveAsWorker, type WorkerHostOptions } from "./worker_host.ts";
import type { WorkerEvents, WorkerTransport } from "./worker_transport.ts";

/** The coordinator's end, scripted by the test. */
class FakeSocket implements ClientSocket {
  readyState = 1;
  readonly sent: FromHost[] = [];
  closedWith: number | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: { message?: string }) => void) | null = null;

  send(text: string): void {
    this.sent.push(JSON.parse(text));
  }
  close(code = 1000): void {
    this.closedWith ??= code;
    this.readyState = 3;
  }
  deliver(message: ToHost): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  hangUp(code: number, reason = ""): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

/** Load workers that keep what they are given and answer when told. */
class FakeThreads implements WorkerTransport {
  readonly posted = new Map<number, ToWorker[]>();
  readonly events = new Map<number, WorkerEvents>();
  readonly closed = new Set<number>();
  open(id: number, events: WorkerEvents) {
    this.posted.set(id, []);
    this.events.set(id, events);
    return {
      post: (m: ToWorker) => void this.posted.get(id)!.push(m),
      close: () => void this.closed.add(id),
    };
  }
}

function start(more: Partial<WorkerHostOptions> = {}) {
  const socket = new FakeSocket();
  const threads = new FakeThreads();
  const said: string[] = [];
  const done = serveAsWorker(socket, {
    url: "ws://coordinator:7400",
    workers: 2,
    name: "host-a",
    transport: threads,
    say: (line) => said.push(line),
    ...more,
  });
  return { socket, threads, said, done };
}

const welcome = (toleranceMs = 60_000): ToHost => ({
  type: "welcome",
  protocol: PROTOCOL_VERSION,
  name: "host-a#2",
  heartbeatMs: 20,
  toleranceMs,
});

const INIT: ToWorker = testInit({
  workerId: 3,
  planUrl: "file:///coordinator/plan.ts",
  run: {
    runId: "r",
    testplan: "p",
    host: "h",
    startedAt: "",
    version: "",
    tags: { team: "a" },
    metadata: {},
  },
  workers: 3,
});

const STATS = { endpoints: [], checks: [] };

Deno.test("the plan reaches each load worker with its hash; messages go both ways; acked finals end it", async () => {
  const { socket, threads, said, done } = start();
  assert.deepEqual(socket.sent[0], {
    type: "hello",
    protocol: PROTOCOL_VERSION,
    version: socket.sent[0].type === "hello" ? socket.sent[0].version : "",
    name: "host-a",
    workers: 2,
  });
  socket.deliver(welcome());
  const plan = sealPlan("/* the plan */", [], 2, [1, 2]);
  socket.deliver({ type: "plan", hash: plan.hash, plan: plan.text });
  socket.deliver({ type: "thread", worker: 1, message: INIT, planHash: plan.hash });
  socket.deliver({ type: "thread", worker: 2, message: INIT, planHash: plan.hash });
  socket.deliver({ type: "thread", worker: 2, message: { type: "users", counts: { u: 3 } } });
  const init = threads.posted.get(1)![0] as Extract<ToWorker, { type: "init" }>;
  assert.equal(init.planCode, "/* the plan */");
  assert.deepEqual(init.run.tags, { team: "a" }, "the run's facts as the coordinator sent them");
  assert.deepEqual(threads.posted.get(2)!.map((m) => m.type), ["init", "users"]);
  threads.events.get(2)!.message({ type: "ready", workerId: 3 });
  const users = { active: {}, started: 3 };
  threads.events.get(2)!.message({ type: "stopped", workerId: 3, delta: STATS, users });
  assert.deepEqual(socket.sent.filter((m) => m.type === "thread"), [
    { type: "thread", worker: 2, message: { type: "ready", workerId: 3 } },
    { type: "thread", worker: 2, message: { type: "stopped", workerId: 3, delta: STATS, users } },
  ]);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(socket.sent.some((m) => m.type === "heartbeat"), "heartbeats go out");
  socket.deliver({ type: "ack", worker: 2 });
  socket.deliver({ type: "close", worker: 1 });
  socket.hangUp(1000, "the run is over");
  assert.equal(await done, "completed");
  assert.deepEqual([...threads.closed].sort(), [1, 2]);
  assert.deepEqual(said, [
    "joined ws://coordinator:7400 as host-a#2 with 2 load workers; waiting for the run to start",
    "the run is over",
  ]);
});

Deno.test("a plan that does not match its hash is refused; the process says so and leaves", async () => {
  const { socket, threads, done } = start();
  socket.deliver(welcome());
  const plan = sealPlan("/* the plan */", [], 1, [1]);
  socket.deliver({ type: "plan", hash: plan.hash, plan: plan.text.replace("the", "a") });
  await assert.rejects(done, (e: unknown) => {
    assert.ok(e instanceof RunError);
    assert.match(e.message, /^Cannot load the plan the coordinator sent: its content hash is /);
    return true;
  });
  const refused = socket.sent.find((m) => m.type === "refused");
  assert.match(refused?.type === "refused" ? refused.reason : "", /its content hash is/);
  assert.equal(threads.posted.size, 0, "no load worker started");
});

Deno.test("an init for another plan than the one held is refused", async () => {
  const { socket, threads, done } = start();
  socket.deliver(welcome());
  const plan = sealPlan("/* the plan */", [], 1, [1]);
  socket.deliver({ type: "plan", hash: plan.hash, plan: plan.text });
  socket.deliver({ type: "thread", worker: 1, message: INIT, planHash: "0".repeat(64) });
  await assert.rejects(done, /Cannot start load worker 1: its init is for plan 000000000000…/);
  assert.equal(threads.posted.size, 0);
});

Deno.test("a coordinator that goes silent is gone: the process ends its load workers and leaves", async () => {
  const { socket, threads, done } = start();
  socket.deliver(welcome(150));
  const plan = sealPlan("", [], 1, [1]);
  socket.deliver({ type: "plan", hash: plan.hash, plan: plan.text });
  socket.deliver({ type: "thread", worker: 1, message: INIT, planHash: plan.hash });
  await assert.rejects(
    done,
    /^RunError: Cannot go on: the coordinator sent nothing for 0\.\d s; it is gone, so this worker stops$/,
  );
  assert.deepEqual([...threads.closed], [1]);
  assert.equal(socket.closedWith, 1001);
});

Deno.test("a connection that closes before the final stats were acknowledged says which", async () => {
  const { socket, done } = start();
  socket.deliver(welcome());
  const plan = sealPlan("", [], 1, [1]);
  socket.deliver({ type: "plan", hash: plan.hash, plan: plan.text });
  socket.deliver({ type: "thread", worker: 1, message: INIT, planHash: plan.hash });
  socket.hangUp(1006);
  await assert.rejects(
    done,
    /Cannot go on: the connection to the coordinator closed \(1006\); the final stats of worker-1 were not acknowledged/,
  );
});

Deno.test("refused at the hello: the coordinator's reason, in one line", async () => {
  const { socket, done } = start();
  socket.deliver({
    type: "refused",
    reason: "it speaks protocol 2 (stampede 9), this coordinator 1",
  });
  await assert.rejects(
    done,
    /^RunError: Cannot join the coordinator at ws:\/\/coordinator:7400: it refused this worker: it speaks protocol 2/,
  );
});

Deno.test("a signal takes the process out at once", async () => {
  const stop = new AbortController();
  const { socket, done } = start({ signal: stop.signal });
  socket.deliver(welcome());
  stop.abort("terminated");
  assert.equal(await done, "terminated");
});
