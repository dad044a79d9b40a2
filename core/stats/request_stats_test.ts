import assert from "node:assert/strict";
import { decodeHistogram } from "./histogram.ts";
import { RequestStats } from "./request_stats.ts";

Deno.test("a delta holds what was counted since the last one, by endpoint, status and outcome", () => {
  const stats = new RequestStats();
  stats.record("GET", "/a", 200, 1_000, 10, null);
  stats.record("GET", "/a", 200, 3_000, 10, null);
  stats.record("GET", "/a", 500, 2_000, 5, "HTTP 500");
  stats.record("TASK", "buy", 0, -1, 0, "Error: no stock");
  stats.abort("POST", "/cart");
  const first = stats.takeDelta();
  const a = first.endpoints.find((e) => e.name === "/a")!;
  assert.deepEqual(
    a.cells.map((c) => [c.status, c.failed, c.requests, c.bytes, c.sumUs, c.minUs, c.maxUs]),
    [[200, false, 2, 20, 4_000, 1_000, 3_000], [500, true, 1, 5, 2_000, 2_000, 2_000]],
  );
  assert.equal(decodeHistogram(a.cells[0].histogram!).totalCount, 2);
  assert.deepEqual(a.errors, [["HTTP 500", 1]]);
  const task = first.endpoints.find((e) => e.method === "TASK")!;
  assert.equal(task.cells[0].histogram, null, "no latency measured, no histogram");
  assert.equal(first.endpoints.find((e) => e.name === "/cart")!.aborted, 1);

  // The next delta starts from zero and leaves out endpoints with nothing new.
  stats.record("GET", "/a", 200, 5_000, 1, null);
  const second = stats.takeDelta();
  assert.deepEqual(second.endpoints.map((e) => e.name), ["/a"]);
  assert.deepEqual(
    second.endpoints[0].cells.map((c) => [c.status, c.requests, c.sumUs, c.minUs, c.maxUs]),
    [[200, 1, 5_000, 5_000, 5_000]],
  );
  assert.deepEqual(second.endpoints[0].errors, []);
  assert.deepEqual(stats.takeDelta().endpoints, []);
});

Deno.test("an endpoint idle for an interval counts again from its kept counters", () => {
  const stats = new RequestStats();
  const endpoint = stats.endpoint("GET", "/a");
  endpoint.record(200, 1_000, 1, null);
  stats.takeDelta();
  assert.deepEqual(stats.takeDelta().endpoints, [], "idle: its cells are let go");
  endpoint.record(200, 2_000, 1, null);
  endpoint.record(200, 4_000, 1, null);
  const [a] = stats.takeDelta().endpoints;
  assert.deepEqual(a.cells.map((c) => [c.status, c.requests, c.minUs, c.maxUs]), [
    [200, 2, 2_000, 4_000],
  ]);
  assert.equal(decodeHistogram(a.cells[0].histogram!).totalCount, 2);
});

Deno.test("names past maxNames are counted in the method's (other) row", () => {
  const stats = new RequestStats({ maxNames: 2 });
  for (const name of ["/a", "/b", "/c", "/d"]) stats.record("GET", name, 200, 1_000, 1, null);
  stats.record("POST", "/e", 200, 1_000, 1, null);
  const rows = stats.takeDelta().endpoints.map((e) => [e.method, e.name, e.cells[0].requests]);
  assert.deepEqual(rows, [["GET", "/a", 1], ["GET", "/b", 1], ["GET", "(other)", 2], [
    "POST",
    "/e",
    1,
  ]]);
});
