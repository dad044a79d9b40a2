// The coordinator's listener for worker processes: who gets in (the token, the protocol
// version, the number expected), how they are named, and how a silent one is lost.
import assert from "node:assert/strict";
import { configureSync, type LogRecord, resetSync } from "npm:@logtape/logtape@2.4.2";
import { RunError } from "../errors.ts";
import { type FromHost, PROTOCOL_VERSION, type ToHost } from "./protocol.ts";
import { WorkerServer, type WorkerServerOptions } from "./worker_server.ts";

const TOKEN = "correct horse battery staple";

/** Records what the coordinator logs while `body` runs. */
async function withLog(body: (logged: string[]) => Promise<void>): Promise<void> {
  const logged: string[] = [];
  configureSync({
    reset: true,
    sinks: { memory: (r: LogRecord) => void logged.push(r.message.map(String).join("")) },
    loggers: [
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
      { category: ["stampede"], lowestLevel: "info", sinks: ["memory"] },
    ],
  });
  try {
    await body(logged);
  } finally {
    resetSync();
  }
}

function listen(more: Partial<WorkerServerOptions> = {}): { server: WorkerServer; said: string[] } {
  const said: string[] = [];
  const server = WorkerServer.listen({
    hostname: "127.0.0.1",
    port: 0,
    token: TOKEN,
    expectWorkers: 1,
    toleranceMs: 2000,
    say: (line) => said.push(line),
    ...more,
  });
  return { server, said };
}

/** A hand-driven worker process: a WebSocket that says what it is told and keeps what it gets. */
class RawWorker {
  readonly received: ToHost[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly socket: WebSocket;
  #waiters: (() => void)[] = [];

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.onmessage = (e) => {
      this.received.push(JSON.parse(String(e.data)));
      for (const wake of this.#waiters.splice(0)) wake();
    };
    this.closed = new Promise((resolve) => socket.onclose = (e) => resolve(e));
  }

  static async connect(url: string, token: string): Promise<RawWorker> {
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = (e) => reject(new Error((e as ErrorEvent).message));
    });
    return new RawWorker(socket);
  }

  send(message: FromHost): void {
    this.socket.send(JSON.stringify(message));
  }

  hello(more: Partial<Extract<FromHost, { type: "hello" }>> = {}): void {
    this.send({
      type: "hello",
      protocol: PROTOCOL_VERSION,
      version: "0",
      name: "host-a",
      workers: 2,
      ...more,
    });
  }

  /** The next message of `type`. */
  async next<T extends ToHost["type"]>(type: T): Promise<Extract<ToHost, { type: T }>> {
    for (;;) {
      const found = this.received.find((m) => m.type === type);
      if (found) {
        this.received.splice(this.received.indexOf(found), 1);
        return found as Extract<ToHost, { type: T }>;
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }
}

Deno.test("a worker without the token, or with a wrong one, is refused before any WebSocket and logged", async () => {
  await withLog(async (logged) => {
    const { server } = listen();
    try {
      const attempts: Record<string, string>[] = [{}, { authorization: "Bearer guess" }];
      for (const headers of attempts) {
        const response = await fetch(server.url.replace("ws:", "http:"), {
          headers: { ...headers, upgrade: "websocket", connection: "upgrade" },
        });
        const body = await response.text();
        assert.equal(response.status, 401);
        assert.equal(body, "Cannot join: the token is missing or wrong\n");
      }
      await assert.rejects(() => RawWorker.connect(server.url, "guess"), /401/);
      assert.equal(logged.filter((l) => /it brought no token/.test(l)).length, 1);
      assert.equal(logged.filter((l) => /its token is wrong/.test(l)).length, 2);
      assert.ok(logged.every((l) => /^Refused a connection from 127\.0\.0\.1:\d+: /.test(l)));
    } finally {
      await server.close();
    }
  });
});

Deno.test("a worker of another protocol version is refused, with both versions in one line", async () => {
  await withLog(async (logged) => {
    const { server } = listen();
    try {
      const worker = await RawWorker.connect(server.url, TOKEN);
      worker.hello({ protocol: PROTOCOL_VERSION + 1, version: "9.9.9" });
      const refused = await worker.next("refused");
      assert.match(
        refused.reason,
        new RegExp(
          `^it speaks protocol ${
            PROTOCOL_VERSION + 1
          } \\(stampede 9\\.9\\.9\\), this coordinator protocol ${PROTOCOL_VERSION} \\(stampede [^)]+\\); run the same stampede on both$`,
        ),
      );
      assert.equal((await worker.closed).code, 1000);
      assert.ok(logged.some((l) => l.startsWith("Refused worker host-a from 127.0.0.1:")));
    } finally {
      await server.close();
    }
  });
});

Deno.test("workers are welcomed with unique names until the run has its number; the rest are refused", async () => {
  const { server, said } = listen({ expectWorkers: 2 });
  try {
    const waiting = server.waitForWorkers(5_000);
    const a = await RawWorker.connect(server.url, TOKEN);
    a.hello();
    const welcome = await a.next("welcome");
    assert.deepEqual(welcome, {
      type: "welcome",
      protocol: PROTOCOL_VERSION,
      name: "host-a",
      heartbeatMs: 400,
      toleranceMs: 2000,
    });
    const b = await RawWorker.connect(server.url, TOKEN);
    b.hello({ workers: 3 });
    assert.equal((await b.next("welcome")).name, "host-a#2");
    const hosts = await waiting;
    assert.deepEqual(hosts?.map((h) => [h.name, h.workers]), [["host-a", 2], ["host-a#2", 3]]);
    const late = await RawWorker.connect(server.url, TOKEN);
    late.hello({ name: "coordinator" });
    assert.match((await late.next("refused")).reason, /^the run has already started/);
    assert.match(said[0], /^waiting for 2 workers on ws:\/\/127\.0\.0\.1:\d+ for up to 5s/);
    assert.match(
      said[1],
      /^worker host-a joined from 127\.0\.0\.1:\d+ with 2 load workers; waiting for 1 more$/,
    );
    assert.equal(said.at(-1), "2 workers joined with 5 load workers; starting");
  } finally {
    await server.close();
  }
});

Deno.test("too few workers in time: the run does not start, and those that came are told why", async () => {
  const { server } = listen({ expectWorkers: 2 });
  const a = await RawWorker.connect(server.url, TOKEN);
  a.hello({ name: "lonely" });
  await a.next("welcome");
  await assert.rejects(() => server.waitForWorkers(300), (e: unknown) => {
    assert.ok(e instanceof RunError);
    assert.match(
      e.message,
      /^Cannot start the run: 1 of 2 workers joined within 0\.3s \(lonely\); start more with stampede worker --connect ws:\/\/127\.0\.0\.1:\d+, or lower --expect-workers$/,
    );
    return true;
  });
  await server.close();
  assert.match((await a.next("refused")).reason, /^the run did not start/);
});

Deno.test("a joined process that goes silent is lost once; heartbeats keep a live one in", async () => {
  const { server } = listen({ expectWorkers: 2, toleranceMs: 500 });
  try {
    const waiting = server.waitForWorkers(5_000);
    const live = await RawWorker.connect(server.url, TOKEN);
    live.hello({ name: "live" });
    await live.next("welcome");
    const beating = setInterval(() => live.send({ type: "heartbeat" }), 100);
    const silent = await RawWorker.connect(server.url, TOKEN);
    silent.hello({ name: "silent" });
    await silent.next("welcome");
    const hosts = (await waiting)!;
    const gone: string[] = [];
    for (const host of hosts) {
      host.attach({ message: () => {}, gone: (why) => gone.push(`${host.name}: ${why}`) });
    }
    const closed = await silent.closed;
    await new Promise((resolve) => setTimeout(resolve, 700));
    clearInterval(beating);
    assert.equal(closed.code, 4000);
    assert.equal(gone.length, 1);
    assert.match(gone[0], /^silent: sent no heartbeat for 0\.\d s$/);
    assert.ok(live.received.some((m) => m.type === "heartbeat"), "the coordinator beats too");
    assert.equal(live.socket.readyState, WebSocket.OPEN);
  } finally {
    await server.close();
  }
});
