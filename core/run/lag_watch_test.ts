import assert from "node:assert/strict";
import { LagWatch } from "./lag_watch.ts";

const sample = (source: string, lagMs: number) => ({
  at: "2026-11-30T00:00:00.000Z",
  source,
  eventLoopLagP99Ms: lagMs,
});

Deno.test("a lag warning needs the threshold crossed in samples in a row, and again only when it doubles", () => {
  const watch = new LagWatch({ lagMs: 50, samples: 3 });
  const seen = [80, 90, 10, 70, 60, 75, 100, 160, 200, 20].map((ms) =>
    watch.observe(sample("w", ms))
  );
  assert.deepEqual(seen.map((w) => w?.lagP99Ms ?? null), [
    null, // 1 above
    null, // 2 above
    null, // reset
    null,
    null,
    75, // 3 in a row: the worst of them
    null, // 100 < 2 x 75
    160, // >= 150: worse, said again
    null,
    null,
  ]);
  assert.equal(watch.observe(sample("other", 500)), null, "sources are watched apart");
});
