// System metrics of the load-generating threads: CPU, memory, network and event-loop lag, read
// from the OS. A value the OS does not give is left out, never guessed.
import { roundTo } from "../numbers.ts";
import type { SystemSample } from "../recorder/types.ts";

/** Clock ticks per second in `/proc/<pid>/stat` (USER_HZ: 100 on every Linux ABI Deno runs on). */
const CLOCK_TICKS_PER_SEC = 100;
/** CPU time moves in 10 ms ticks: over a shorter span than this a CPU % would be mostly noise. */
const MIN_CPU_SPAN_MS = 250;

/** Reads a text file, or returns null when it is absent or unreadable. */
export type ReadText = (path: string) => string | null;

/** Reads through `Deno.readTextFileSync`; null on any error (no /proc, no permission). */
export const readTextOrNull: ReadText = (path) => {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return null;
  }
};

/**
 * CPU seconds (user + system) from the text of `/proc/<pid>/stat` or `/proc/thread-self/stat`:
 * fields 14 and 15, in clock ticks. Null when the text does not parse.
 */
export function parseStatCpuSeconds(stat: string): number | null {
  // The command name (field 2) may hold spaces and parentheses: fields restart after the last ")".
  const close = stat.lastIndexOf(")");
  if (close < 0) return null;
  const fields = stat.slice(close + 2).trim().split(/\s+/);
  // fields[0] is field 3 (state), so field 14 is fields[11] and field 15 is fields[12].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return (utime + stime) / CLOCK_TICKS_PER_SEC;
}

/**
 * Time on a CPU and time waiting for one (runnable, but another thread had the core), in seconds,
 * from the text of `/proc/thread-self/schedstat`. Null when the text does not parse.
 */
export function parseSchedstat(text: string): { runS: number; waitS: number } | null {
  const [runNs, waitNs] = text.trim().split(/\s+/).map(Number);
  if (!Number.isFinite(runNs) || !Number.isFinite(waitNs)) return null;
  return { runS: runNs / 1e9, waitS: waitNs / 1e9 };
}

/** Bytes received and sent, summed over every interface of `/proc/net/dev` (loopback included). */
export function parseNetDev(text: string): { receivedBytes: number; sentBytes: number } | null {
  let receivedBytes = 0;
  let sentBytes = 0;
  let interfaces = 0;
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0 || line.includes("|")) continue;
    const fields = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit: bytes ...
    if (fields.length < 9 || !Number.isFinite(fields[0]) || !Number.isFinite(fields[8])) continue;
    receivedBytes += fields[0];
    sentBytes += fields[8];
    interfaces++;
  }
  return interfaces > 0 ? { receivedBytes, sentBytes } : null;
}

/** Value at percentile `p` (0–100) of `values`, nearest rank; sorts `values` in place. */
function percentileOf(values: number[], p: number): number {
  values.sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * values.length));
  return values[rank - 1];
}

/**
 * Event-loop lag of one thread: a timer meant to fire every `tickMs` that fires late tells how
 * long the loop was busy. `tick()` is called from that timer; `takeP99Ms()` ends an interval.
 */
export class LagMonitor {
  readonly #tickMs: number;
  #lastMs: number;
  #lagsMs: number[] = [];

  constructor(tickMs: number, nowMs: number = performance.now()) {
    this.#tickMs = tickMs;
    this.#lastMs = nowMs;
  }

  /** Records one firing of the timer at `nowMs`. */
  tick(nowMs: number = performance.now()): void {
    this.#lagsMs.push(Math.max(0, nowMs - this.#lastMs - this.#tickMs));
    this.#lastMs = nowMs;
  }

  /**
   * The 99th percentile of the lags since the last call, in ms, and starts a new interval.
   * A timer still waiting at `nowMs` counts too: a loop blocked for the whole interval shows.
   * Undefined when the timer never had a chance to fire.
   */
  takeP99Ms(nowMs: number = performance.now()): number | undefined {
    const lags = this.#lagsMs;
    this.#lagsMs = [];
    const pendingMs = nowMs - this.#lastMs - this.#tickMs;
    if (pendingMs > 0) lags.push(pendingMs);
    if (lags.length === 0) return undefined;
    return Math.round(percentileOf(lags, 99) * 1000) / 1000;
  }
}

/** What a {@link SystemSampler} reads. */
export interface SystemSamplerOptions {
  /**
   * CPU % of the calling thread, each load worker's own share: from `/proc/thread-self/schedstat`
   * (with the time it waited for a core), else from `/proc/thread-self/stat`.
   */
  thread?: boolean;
  /** CPU % of the whole process and its resident memory: once per process (the coordinator). */
  process?: boolean;
  /** Network bytes of the machine's network namespace (`/proc/net/dev`): once per machine. */
  network?: boolean;
  /** Event-loop lag of the calling thread. */
  lag?: LagMonitor;
  read?: ReadText;
  /** Monotonic clock in ms. */
  now?: () => number;
  memoryUsage?: () => { rss: number; heapUsed: number };
}

/** A sample without its source and time, as a load worker sends it. */
export type SystemReadings = Omit<SystemSample, "source" | "at">;

/**
 * Samples one thread (and, if asked, its process and machine): every `sample()` returns the
 * values over the span since the previous one (since construction for the first).
 */
export class SystemSampler {
  readonly #options: SystemSamplerOptions;
  readonly #read: ReadText;
  readonly #now: () => number;
  readonly #memoryUsage: () => { rss: number; heapUsed: number };
  #lastMs: number;
  /** Where this thread's CPU time comes from; one source for the whole run, never mixed. */
  readonly #threadSource: "schedstat" | "stat" | null = null;
  #threadCpu: { runS: number; waitS: number | null } | null = null;
  #processCpuS: number | null = null;
  #net: { receivedBytes: number; sentBytes: number } | null = null;

  constructor(options: SystemSamplerOptions) {
    this.#options = options;
    this.#read = options.read ?? readTextOrNull;
    this.#now = options.now ?? (() => performance.now());
    this.#memoryUsage = options.memoryUsage ?? (() => Deno.memoryUsage());
    this.#lastMs = this.#now();
    if (options.thread) {
      const sched = this.#read("/proc/thread-self/schedstat");
      if (sched !== null && parseSchedstat(sched) !== null) this.#threadSource = "schedstat";
      else if (this.#read("/proc/thread-self/stat") !== null) this.#threadSource = "stat";
    }
    this.#threadCpu = this.#readThreadCpu();
    this.#processCpuS = this.#readCpu("/proc/self/stat", options.process);
    this.#net = this.#readNet();
  }

  #readCpu(path: string, wanted: boolean | undefined): number | null {
    if (!wanted) return null;
    const text = this.#read(path);
    return text === null ? null : parseStatCpuSeconds(text);
  }

  /** This thread's CPU time and, where the kernel keeps it, its time waiting for a core. */
  #readThreadCpu(): { runS: number; waitS: number | null } | null {
    if (this.#threadSource === "schedstat") {
      const text = this.#read("/proc/thread-self/schedstat");
      return text === null ? null : parseSchedstat(text);
    }
    if (this.#threadSource === "stat") {
      const runS = this.#readCpu("/proc/thread-self/stat", true);
      return runS === null ? null : { runS, waitS: null };
    }
    return null;
  }

  #readNet() {
    if (!this.#options.network) return null;
    const text = this.#read("/proc/net/dev");
    return text === null ? null : parseNetDev(text);
  }

  /** Readings over the span since the previous sample. */
  sample(): SystemReadings {
    const nowMs = this.#now();
    const spanMs = nowMs - this.#lastMs;
    this.#lastMs = nowMs;
    const readings: SystemReadings = { intervalMs: Math.round(spanMs) };
    const percentOf = (cpuS: number) => roundTo((100 * cpuS * 1000) / spanMs, 1);

    const threadCpu = this.#readThreadCpu();
    const lastCpu = this.#threadCpu;
    if (threadCpu !== null && lastCpu !== null && spanMs >= MIN_CPU_SPAN_MS) {
      readings.cpuPercent = percentOf(Math.max(0, threadCpu.runS - lastCpu.runS));
      if (threadCpu.waitS !== null && lastCpu.waitS !== null) {
        readings.cpuWaitPercent = percentOf(Math.max(0, threadCpu.waitS - lastCpu.waitS));
      }
    }
    if (threadCpu !== null) this.#threadCpu = threadCpu;
    const processCpuS = this.#readCpu("/proc/self/stat", this.#options.process);
    if (processCpuS !== null && this.#processCpuS !== null && spanMs >= MIN_CPU_SPAN_MS) {
      readings.processCpuPercent = percentOf(Math.max(0, processCpuS - this.#processCpuS));
    }
    this.#processCpuS = processCpuS;

    try {
      const memory = this.#memoryUsage();
      readings.heapUsedBytes = memory.heapUsed;
      if (this.#options.process) readings.rssBytes = memory.rss;
    } catch {
      // No memory figures on this runtime: leave them out.
    }

    const net = this.#readNet();
    if (net !== null && this.#net !== null) {
      readings.networkSentBytes = Math.max(0, net.sentBytes - this.#net.sentBytes);
      readings.networkReceivedBytes = Math.max(0, net.receivedBytes - this.#net.receivedBytes);
    }
    this.#net = net;

    const lag = this.#options.lag?.takeP99Ms(nowMs);
    if (lag !== undefined) readings.eventLoopLagP99Ms = lag;
    return readings;
  }
}
