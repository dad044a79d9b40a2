// The remote transport: load workers of every process as workers of the pool, interleaved
// across machines; the plan once per process with its share of unique rows; finals acknowledged.
import assert from "node:assert/strict";
import { csv } from "../plan/data.ts";
import { loadTable } from "./data_table.ts";
import { openPlan } from "./plan_package.ts";
import type { FromWorker, ToHost, ToWorker } from "./protocol.ts";
import { RemoteHost } from "./remote_host.ts";
import { RemoteTransport } from "./remote_transport.ts";
import { testInit } from "./test_fixtures.ts";

/** A worker process's socket as the coordinator holds it. */
class FakeSocket {
  readyState: number = WebSocket.OPEN;
  readonly sent: ToHost[] = [];
  closedWith: number | null = null;
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  close(code: number) {
    this.closedWith = code;
    this.readyState = WebSocket.CLOSED;
  }
}

function host(name: string, workers: number) {
  const socket = new FakeSocket();
  return {
    socket,
    host: new RemoteHost(socket as unknown as WebSocket, { name, workers, address: "x" }),
  };
}

const INIT: ToWorker = testInit({
  workerId: 0,
  planUrl: "file:///plan.ts",
  planCode: "/* code */",
  run: { runId: "r", testplan: "p", host: "h", startedAt: "", version: "", tags: {}, metadata: {} },
  workers: 3,
});

Deno.test("remote load workers are the pool's workers, one of each process in turn, each with its source", async () => {
  const a = host("a", 2);
  const b = host("b", 1);
  const accounts = await loadTable(
    "accounts",
    csv("data/accounts.csv", { order: "unique" }),
    new URL("../../tests/plans/data_unique.plan.ts", import.meta.url).href,
  );
  const transport = new RemoteTransport([a.host, b.host], { code: "/* code */", data: [accounts] });
  assert.equal(transport.workers, 3);
  assert.deepEqual([1, 2, 3].map((id) => transport.sourceOf(id)), [
    "a/worker-1",
    "b/worker-1",
    "a/worker-2",
  ]);
  const received: FromWorker[][] = [[], [], []];
  const lost: string[] = [];
  const links = [1, 2, 3].map((id) =>
    transport.open(id, {
      message: (m) => void received[id - 1].push(m),
      error: () => {},
      lost: (h, why) => void lost.push(`${id}:${h}:${why}`),
    })
  );
  for (const [i, link] of links.entries()) link.post({ ...INIT, workerId: i + 1 });

  // One plan per process, then an init per load worker naming it, without the code or the data.
  assert.deepEqual(a.socket.sent.map((m) => m.type), ["plan", "thread", "thread"]);
  const [plan, init1] = a.socket.sent;
  assert.ok(plan.type === "plan" && init1.type === "thread");
  assert.equal(init1.planHash, plan.hash);
  assert.equal(init1.worker, 1);
  assert.ok(init1.message.type === "init" && init1.message.planCode === undefined);
  assert.ok(init1.message.type === "init" && init1.message.data.length === 0);
  // Process a runs two of the three load workers: two thirds of the unique rows.
  const opened = openPlan(plan.plan, plan.hash);
  assert.equal(opened.code, "/* code */");
  assert.equal(opened.data[0].rows, 100);
  const bPlan = b.socket.sent[0];
  assert.ok(bPlan.type === "plan");
  assert.equal(openPlan(bPlan.plan, bPlan.hash).data[0].rows, 50);

  // Messages come back to the worker they belong to; a final one is acknowledged.
  const users = { active: {}, started: 1 };
  a.host.receive({ type: "thread", worker: 2, message: { type: "ready", workerId: 3 } });
  a.host.receive({
    type: "thread",
    worker: 2,
    message: { type: "stopped", workerId: 3, delta: { endpoints: [], checks: [] }, users },
  });
  assert.deepEqual(received[2].map((m) => m.type), ["ready", "stopped"]);
  assert.deepEqual(a.socket.sent.at(-1), { type: "ack", worker: 2 });

  // b is gone: its load worker is lost; a's are not. Closing both of a's ends a normally.
  b.host.lose("sent no heartbeat for 10.0 s");
  assert.deepEqual(lost, ["2:b:sent no heartbeat for 10.0 s"]);
  links[0].close();
  assert.equal(a.socket.closedWith, null);
  links[2].close();
  assert.deepEqual(a.socket.sent.slice(-2), [{ type: "close", worker: 1 }, {
    type: "close",
    worker: 2,
  }]);
  assert.equal(a.socket.closedWith, 1000);
});
