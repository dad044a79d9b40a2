// The runtime's own ceiling: N async loops of fetch + read body + HDR record, nothing else.
// deno run -A bench/raw_fetch.ts URL CONNECTIONS SECONDS [THINK_MIN_S THINK_MAX_S]
// Prints one JSON line: { requests, errors, seconds, p50_ms, p99_ms }.
import { createHistogram, recordLatencyUs } from "../core/stats/histogram.ts";
import { printResult } from "./raw_result.ts";

const [url, connectionsArg, secondsArg, thinkMinArg, thinkMaxArg] = Deno.args;
const connections = Number(connectionsArg ?? 64);
const seconds = Number(secondsArg ?? 10);
const thinkMinS = Number(thinkMinArg ?? 0);
const thinkMaxS = Number(thinkMaxArg ?? 0);
const histogram = createHistogram();
let requests = 0;
let errors = 0;
let running = true;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function loop(): Promise<void> {
  while (running) {
    const start = performance.now();
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      recordLatencyUs(histogram, Math.round((performance.now() - start) * 1000));
      requests++;
    } catch {
      errors++;
    }
    if (thinkMaxS > 0) await sleep((thinkMinS + Math.random() * (thinkMaxS - thinkMinS)) * 1000);
  }
}

const started = performance.now();
const loops = Array.from({ length: connections }, loop);
await sleep(seconds * 1000);
running = false;
const elapsedS = (performance.now() - started) / 1000;
if (thinkMaxS === 0) await Promise.all(loops);
printResult(requests, errors, elapsedS, histogram);
