import assert from "node:assert/strict";
import { RecorderSet } from "./recorder_set.ts";
import type { LifecycleEvent, Recorder } from "./types.ts";

const event: LifecycleEvent = { name: "worker_started", at: "", source: "worker-1", data: {} };

Deno.test("a throwing or hanging recorder is reported once and the others go on", async () => {
  const seen: string[] = [];
  const good: Recorder = {
    lifecycle: { event: (e) => void seen.push(e.name) },
    output: { stop: (reason) => void seen.push(`stop:${reason}`) },
  };
  const throwing: Recorder = {
    lifecycle: {
      event: () => {
        throw new Error("disk full");
      },
    },
  };
  const hanging: Recorder = { lifecycle: { event: () => new Promise(() => {}) } };
  const set = new RecorderSet([
    { id: "throwing", recorder: throwing },
    { id: "hanging", recorder: hanging },
    { id: "good", recorder: good },
  ], 50);
  set.lifecycle(event);
  set.lifecycle(event);
  await set.stop("completed");
  assert.deepEqual(seen, ["worker_started", "worker_started", "stop:completed"]);
  assert.equal(set.problems.length, 2);
  assert.match(
    set.problems[0],
    /recorder "throwing" failed \(Error: disk full\) in lifecycle\.event/,
  );
  assert.match(
    set.problems[1],
    /recorder "hanging" did not answer within 50 ms in lifecycle\.event/,
  );
});

Deno.test("calls reach one recorder in order, even when they are async", async () => {
  const order: number[] = [];
  const slowFirst: Recorder = {
    lifecycle: {
      event: async (e) => {
        if (e.name !== "worker_failed") return;
        const n = Number(e.data.message);
        if (n === 1) await new Promise((resolve) => setTimeout(resolve, 20));
        order.push(n);
      },
    },
  };
  const set = new RecorderSet([{ id: "slow", recorder: slowFirst }]);
  for (const n of [1, 2, 3]) {
    set.lifecycle({ name: "worker_failed", at: "", source: "worker-1", data: { message: `${n}` } });
  }
  await set.stop("completed");
  assert.deepEqual(order, [1, 2, 3]);
});

Deno.test("snapshots are skipped, not queued, while a recorder hangs, so the end is not delayed", async () => {
  let release: () => void = () => {};
  let intervals = 0;
  const hangsOnce: Recorder = {
    request: {
      interval: () => {
        intervals++;
        if (intervals === 1) return new Promise<void>((resolve) => release = resolve);
      },
      final: () => {},
    },
  };
  const set = new RecorderSet([{ id: "stuck", recorder: hangsOnce }], 30);
  const snapshot = {} as never;
  set.interval(snapshot);
  await new Promise((resolve) => setTimeout(resolve, 60));
  for (let i = 0; i < 5; i++) set.interval(snapshot); // skipped: the first call still hangs
  release();
  await new Promise((resolve) => setTimeout(resolve, 10));
  set.interval(snapshot); // delivered again
  const start = performance.now();
  await set.stop("completed");
  assert.ok(performance.now() - start < 1000);
  assert.equal(intervals, 2);
  assert.deepEqual(set.problems, [
    'recorder "stuck" did not answer within 30 ms in request.interval; the run goes on',
    'recorder "stuck" lost snapshots in request.interval (skipped while it hangs); the run goes on',
  ]);
});

Deno.test("an output that declares a longer stop gets it; others keep the usual timeout", async () => {
  let lingered = false;
  const lingering: Recorder = {
    output: {
      stopTimeoutMs: 500,
      stop: () =>
        new Promise<void>((resolve) => setTimeout(() => resolve(void (lingered = true)), 100)),
    },
  };
  const set = new RecorderSet([{ id: "lingering", recorder: lingering }], 30);
  await set.stop("completed");
  assert.ok(lingered);
  assert.deepEqual(set.problems, []);
});

Deno.test("a signal during the stop stops the wait for a lingering recorder and says so", async () => {
  const lingering: Recorder = {
    output: { stopTimeoutMs: 60_000, stop: () => new Promise<void>(() => {}) },
  };
  const quick: Recorder = { output: { stop: () => {} } };
  const set = new RecorderSet([{ id: "lingering", recorder: lingering }, {
    id: "quick",
    recorder: quick,
  }]);
  const cut = new AbortController();
  setTimeout(() => cut.abort(), 50);
  const start = performance.now();
  await set.stop("completed", cut.signal);
  assert.ok(performance.now() - start < 5_000);
  assert.deepEqual(set.problems, [
    'recorder "lingering" was cut short by a signal in output.stop',
  ]);
});
