// The floor under any HTTP client on Deno: N sockets on Deno.connect, each writing a GET and
// reading until the blank line after the head (nginx sends the small body in the same segment),
// plus one clock read pair and an HDR record per request. No parsing, no timers, no workers.
// deno run -A bench/raw_socket.ts URL CONNECTIONS SECONDS
// Prints one JSON line: { requests, errors, seconds, p50_ms, p99_ms }.
import { createHistogram, recordLatencyUs } from "../core/stats/histogram.ts";
import { printResult } from "./raw_result.ts";

const [url, connectionsArg, secondsArg] = Deno.args;
const target = new URL(url);
const connections = Number(connectionsArg ?? 64);
const seconds = Number(secondsArg ?? 10);
const histogram = createHistogram();
const request = new TextEncoder().encode(
  `GET ${target.pathname} HTTP/1.1\r\nhost: ${target.host}\r\n\r\n`,
);
let requests = 0;
let errors = 0;
let running = true;

/** CR LF CR LF in `buf[0, end)`. */
function hasBlankLine(buf: Uint8Array, end: number): boolean {
  for (let i = 3; i < end; i++) {
    if (buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 && buf[i - 3] === 13) return true;
  }
  return false;
}

async function loop(): Promise<void> {
  const conn = await Deno.connect({ hostname: target.hostname, port: Number(target.port || 80) });
  conn.setNoDelay(true);
  const buf = new Uint8Array(4096);
  try {
    while (running) {
      const start = performance.now();
      await conn.write(request);
      let end = 0;
      do {
        const n = await conn.read(buf.subarray(end));
        if (n === null) throw new Error("closed");
        end += n;
      } while (!hasBlankLine(buf, end));
      recordLatencyUs(histogram, Math.round((performance.now() - start) * 1000));
      requests++;
    }
  } catch {
    errors++;
  } finally {
    conn.close();
  }
}

const started = performance.now();
const loops = Array.from({ length: connections }, loop);
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
running = false;
const elapsedS = (performance.now() - started) / 1000;
await Promise.all(loops);
printResult(requests, errors, elapsedS, histogram);
