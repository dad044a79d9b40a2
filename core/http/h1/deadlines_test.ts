import assert from "node:assert/strict";
import type { H1Connection } from "./connection.ts";
import { Deadlines } from "./deadlines.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What Deadlines uses of a connection. */
class FakeConnection {
  deadlineMs = Infinity;
  timedOut = false;
  watchIndex = -1;
  closed = false;
  close(): void {
    this.closed = true;
  }
}

const fakeConnection = () => new FakeConnection() as unknown as H1Connection & FakeConnection;

Deno.test("a busy connection past its deadline is closed and marked timed out", async () => {
  const deadlines = new Deadlines();
  const late = fakeConnection();
  const done = fakeConnection();
  deadlines.watch(late, performance.now() + 20);
  deadlines.watch(done, performance.now() + 20);
  deadlines.unwatch(done);
  await sleep(60);
  assert.equal(late.timedOut, true);
  assert.equal(late.closed, true);
  assert.equal(done.closed, false, "a request over in time is left alone");
});

Deno.test("one timer serves every deadline: later ones are checked when the earlier fires", async () => {
  const deadlines = new Deadlines();
  const first = fakeConnection();
  const second = fakeConnection();
  const third = fakeConnection();
  const startMs = performance.now();
  deadlines.watch(first, startMs + 20);
  deadlines.watch(second, startMs + 60);
  deadlines.watch(third, startMs + 10_000);
  await sleep(40);
  assert.deepEqual([first.closed, second.closed, third.closed], [true, false, false]);
  await sleep(60);
  assert.deepEqual([first.closed, second.closed, third.closed], [true, true, false]);
  deadlines.unwatch(third);
});

Deno.test("connections leave the watch in any order; only the ones still watched time out", async () => {
  const deadlines = new Deadlines();
  const all = Array.from({ length: 6 }, fakeConnection);
  for (const conn of all) deadlines.watch(conn, performance.now() + 20);
  for (const i of [0, 5, 2]) deadlines.unwatch(all[i]);
  deadlines.unwatch(all[0]);
  await sleep(60);
  assert.deepEqual(all.map((c) => c.closed), [false, true, false, true, true, false]);
  assert.ok(all.every((c) => c.watchIndex === -1));
});

Deno.test("an earlier deadline than the armed one re-arms the timer", async () => {
  const deadlines = new Deadlines();
  const slow = fakeConnection();
  const quick = fakeConnection();
  deadlines.watch(slow, performance.now() + 10_000);
  deadlines.watch(quick, performance.now() + 20);
  await sleep(60);
  assert.equal(quick.timedOut, true);
  assert.equal(slow.closed, false);
  deadlines.unwatch(slow);
});
