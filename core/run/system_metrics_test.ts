import assert from "node:assert/strict";
import {
  LagMonitor,
  parseNetDev,
  parseSchedstat,
  parseStatCpuSeconds,
  type ReadText,
  SystemSampler,
} from "./system_metrics.ts";

/** A `/proc/<pid>/stat` line with `ticks` of user time and 0 of system time. */
function statLine(name: string, userTicks: number, systemTicks = 0): string {
  const after = ["S", "1", "1", "1", "0", "-1", "4194304", "100", "0", "0", "0"];
  return `4242 (${name}) ${after.join(" ")} ${userTicks} ${systemTicks} 0 0 20 0 1 0 112846`;
}

const NET_DEV = (rx: number, tx: number) =>
  `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: ${rx}   14209    0    0    0     0          0         0  ${tx}   14209    0    0    0     0       0          0
  eth0: 1000    2132    0    0    0     0          0         0   500    1515    0    0    0     0       0          0
`;

Deno.test("parseStatCpuSeconds reads utime + stime even when the name holds spaces and parens", () => {
  assert.equal(parseStatCpuSeconds(statLine("deno (worker) x", 250, 50)), 3);
  assert.equal(parseStatCpuSeconds("garbage"), null);
});

Deno.test("parseSchedstat reads time on a CPU and time waiting for one", () => {
  assert.deepEqual(parseSchedstat("1500000000 250000000 42\n"), { runS: 1.5, waitS: 0.25 });
  assert.equal(parseSchedstat(""), null);
});

Deno.test("SystemSampler prefers schedstat: CPU and the time the thread waited for a core", () => {
  let nowMs = 0;
  const files: Record<string, string> = {
    "/proc/thread-self/schedstat": "1000000000 0 10",
    "/proc/thread-self/stat": statLine("w", 100),
  };
  const sampler = new SystemSampler({
    thread: true,
    read: (path) => files[path] ?? null,
    now: () => nowMs,
    memoryUsage: () => ({ rss: 1, heapUsed: 2 }),
  });
  nowMs = 1000;
  files["/proc/thread-self/schedstat"] = "1700000000 300000000 20"; // 0.7 s on, 0.3 s waiting
  files["/proc/thread-self/stat"] = statLine("w", 170);
  assert.deepEqual(sampler.sample(), {
    intervalMs: 1000,
    cpuPercent: 70,
    cpuWaitPercent: 30,
    heapUsedBytes: 2,
  });
  // A span too short for the clock's ticks gives no CPU % at all rather than noise.
  nowMs = 1100;
  assert.equal(sampler.sample().cpuPercent, undefined);
});

Deno.test("parseNetDev sums every interface, loopback included", () => {
  assert.deepEqual(parseNetDev(NET_DEV(2000, 3000)), { receivedBytes: 3000, sentBytes: 3500 });
  assert.equal(parseNetDev("Inter-| Receive\n face |bytes\n"), null);
});

Deno.test("SystemSampler reports CPU % of one core and network bytes since the last sample", () => {
  let nowMs = 0;
  const files: Record<string, string> = {
    "/proc/thread-self/stat": statLine("w", 100),
    "/proc/self/stat": statLine("p", 100),
    "/proc/net/dev": NET_DEV(1000, 1000),
  };
  const sampler = new SystemSampler({
    thread: true,
    process: true,
    network: true,
    read: (path) => files[path] ?? null,
    now: () => nowMs,
    memoryUsage: () => ({ rss: 5000, heapUsed: 300 }),
  });
  nowMs = 2000;
  files["/proc/thread-self/stat"] = statLine("w", 100 + 150); // 1.5 s of CPU in 2 s
  files["/proc/self/stat"] = statLine("p", 100 + 300, 20); // 3.2 s: several threads
  files["/proc/net/dev"] = NET_DEV(1000 + 4096, 1000 + 1024);
  assert.deepEqual(sampler.sample(), {
    intervalMs: 2000,
    cpuPercent: 75,
    processCpuPercent: 160,
    heapUsedBytes: 300,
    rssBytes: 5000,
    networkSentBytes: 1024,
    networkReceivedBytes: 4096,
  });
});

Deno.test("SystemSampler leaves out what the OS does not give, and a worker's process figures", () => {
  const none: ReadText = () => null;
  let nowMs = 0;
  const sampler = new SystemSampler({
    thread: true,
    network: true,
    read: none,
    now: () => nowMs,
    memoryUsage: () => ({ rss: 5000, heapUsed: 300 }),
  });
  nowMs = 1000;
  assert.deepEqual(sampler.sample(), { intervalMs: 1000, heapUsedBytes: 300 });
});

Deno.test("LagMonitor: p99 of how late the timer fired, including a timer still waiting", () => {
  const lag = new LagMonitor(10, 0);
  for (let i = 1; i <= 99; i++) lag.tick(i * 10); // on time
  lag.tick(990 + 10 + 40); // one tick 40 ms late
  assert.equal(lag.takeP99Ms(1040), 0);
  // A loop blocked for 500 ms: no tick at all, but the pending one shows.
  assert.equal(lag.takeP99Ms(1540), 490);
  const idle = new LagMonitor(10, 0);
  assert.equal(idle.takeP99Ms(5), undefined);
});
