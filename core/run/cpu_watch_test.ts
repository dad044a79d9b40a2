import assert from "node:assert/strict";
import { CpuWatch } from "./cpu_watch.ts";

Deno.test("CpuWatch counts time waiting for a core as busy: a starved generator is saturated", () => {
  const watch = new CpuWatch({ percent: 90, forMs: 3_000 });
  const warnings = [];
  for (let s = 1; s <= 3; s++) {
    const at = new Date(Date.UTC(2026, 10, 24, 10, 0, s)).toISOString();
    const w = watch.observe({
      at,
      source: "worker-1",
      cpuPercent: 70,
      cpuWaitPercent: 28,
      intervalMs: 1000,
    });
    if (w) warnings.push(w);
  }
  assert.deepEqual(warnings, [{
    source: "worker-1",
    cpuPercent: 70,
    cpuWaitPercent: 28,
    thresholdPercent: 90,
    durationMs: 3000,
  }]);
});

Deno.test("CpuWatch warns once per source after 10 s above 90 % of a core", () => {
  const watch = new CpuWatch({ percent: 90, forMs: 10_000 });
  const at = (s: number) => new Date(Date.UTC(2026, 10, 24, 10, 0, s)).toISOString();
  const sample = (source: string, s: number, cpuPercent: number) => ({
    at: at(s),
    source,
    cpuPercent,
    intervalMs: 1000,
  });
  const warnings = [];
  for (let s = 1; s <= 16; s++) {
    // worker-1 is hot throughout; worker-2 cools down in the 6th second, so its 10 s start over;
    // the coordinator idles.
    for (
      const w of [
        watch.observe(sample("worker-1", s, 97)),
        watch.observe(sample("worker-2", s, s === 6 ? 50 : 99)),
        watch.observe(sample("coordinator", s, 5)),
      ]
    ) if (w) warnings.push({ ...w, s });
  }
  assert.deepEqual(warnings, [
    { source: "worker-1", cpuPercent: 97, thresholdPercent: 90, durationMs: 10_000, s: 10 },
    { source: "worker-2", cpuPercent: 99, thresholdPercent: 90, durationMs: 10_000, s: 16 },
  ]);
  assert.equal(watch.observe({ at: at(20), source: "x", intervalMs: 1000 }), null);
});
