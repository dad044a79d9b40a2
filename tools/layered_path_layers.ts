// The layers of tools/layered_path.ts that run inside one process: the bare socket loop, then
// Stampede's real pieces (from the checkout at --root) added one at a time. Started by
// layered_path.ts, one process per sample:
//
//   deno run -A --config ROOT/deno.json tools/layered_path_layers.ts LAYER --root ROOT
//       --url http://127.0.0.1:PORT/ [--connections 64] [--seconds 5] [--fake-socket]
//
// With --fake-socket, Deno.connect is replaced by a connection in memory that answers at once:
// the layers' JavaScript alone, without the kernel and its noise.
//
// The layer runs for 1 s of warm-up (connections, JIT, heap growth: the first second runs about
// a fifth slower), then for `--seconds`; it prints one JSON line { requests, seconds, cpuS } for
// the measured span only. CPU is the whole process's, from /proc/self/stat.
import { parseArgs } from "node:util";
import { installFakeSockets } from "./fake_socket.ts";
import { createHistogram } from "../core/stats/histogram.ts";
import type { RequestSink } from "../core/stats/request_stats.ts";
import type { StatsDelta } from "../core/stats/delta.ts";

/** The layers this file runs. */
export const IN_PROCESS_LAYERS = [
  "floor",
  "minimal",
  "session",
  "client",
  "stats",
  "user",
  "worker",
  "worker-traced",
] as const;
type InProcessLayer = typeof IN_PROCESS_LAYERS[number];

const WARMUP_MS = 1000;
const CLOCK_TICKS_PER_SEC = 100;
const REQUEST_PATH = "/";

/** A layer at work: its requests so far (exact when read) and how to stop it. */
interface Running {
  count(): number;
  stop(): Promise<void>;
}

/** What a layer is started with. */
interface Setup {
  root: string;
  url: URL;
  connections: number;
}

function cpuSeconds(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SEC;
}

function requestsIn(delta: StatsDelta): number {
  let n = 0;
  for (const e of delta.endpoints) for (const c of e.cells) n += c.requests;
  return n;
}

/** One loop's request and its connection's end. */
interface Loop {
  once(): Promise<unknown>;
  close(): void;
}

/** Runs `connections` loops of `open()`'s request until stopped; counts each completed one. */
function loops(connections: number, open: () => Promise<Loop>): Running {
  let running = true;
  let count = 0;
  const all = Promise.all(Array.from({ length: connections }, async () => {
    const loop = await open();
    while (running) {
      await loop.once();
      count++;
    }
    loop.close();
  }));
  return {
    count: () => count,
    stop: async () => {
      running = false;
      await all;
    },
  };
}

// ---- floor: the bare socket loop ----------------------------------------------------------

function headEnd(buf: Uint8Array, from: number, len: number): number {
  for (let i = Math.max(3, from); i < len; i++) {
    if (buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 && buf[i - 3] === 13) return i + 1;
  }
  return -1;
}

function contentLength(buf: Uint8Array, end: number): number {
  const name = "content-length:";
  for (let i = 0; i < end; i++) {
    if (buf[i] !== 10) continue;
    let j = 0;
    while (j < name.length && (buf[i + 1 + j] | 0x20) === name.charCodeAt(j)) j++;
    if (j < name.length) continue;
    let k = i + 1 + j;
    while (buf[k] === 32) k++;
    let value = 0;
    while (buf[k] >= 48 && buf[k] <= 57) value = value * 10 + buf[k++] - 48;
    return value;
  }
  throw new Error("no content-length");
}

/** The fixed GET the floor and the minimal layer write. */
function fixedGet(url: URL): Uint8Array {
  return new TextEncoder().encode(
    `GET ${REQUEST_PATH} HTTP/1.1\r\nhost: ${url.host}\r\nuser-agent: x\r\n\r\n`,
  );
}

/** A keep-alive connection to the target, with no delay, and a read buffer for it. */
async function connectTo(url: URL): Promise<{ conn: Deno.Conn; buf: Uint8Array }> {
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  conn.setNoDelay(true);
  return { conn, buf: new Uint8Array(16 * 1024) };
}

/** Writes `request`, reads to the end of its response (head end + content-length), then `done`. */
async function exchange(
  conn: Deno.Conn,
  request: Uint8Array,
  buf: Uint8Array,
  done?: () => void,
): Promise<void> {
  await conn.write(request);
  let len = 0;
  let need = -1;
  while (need < 0 || len < need) {
    const n = await conn.read(buf.subarray(len));
    if (n === null) throw new Error("closed");
    const before = len;
    len += n;
    if (need < 0) {
      const head = headEnd(buf, before, len);
      if (head >= 0) need = head + contentLength(buf, head);
    }
  }
  done?.();
}

/** Write a fixed GET, read to the end of its response. */
function floor({ url, connections }: Setup): Running {
  const request = fixedGet(url);
  return loops(connections, async () => {
    const { conn, buf } = await connectTo(url);
    return { once: () => exchange(conn, request, buf), close: () => conn.close() };
  });
}

/**
 * A minimal load tester on the floor (issue 18's reference, `task+hdr+timer` of
 * ../shared/tools/layered_floor.ts): a user loop awaits an async task, which awaits `get` (the
 * floor's write and read); a clock read before and after and an HDR record a request; a deadline
 * a request, watched by one shared 10 ms ticker. What Stampede's layers add beyond it is
 * Stampede's own work.
 */
function minimal({ url, connections }: Setup): Running {
  const request = fixedGet(url);
  const histogram = createHistogram();
  const deadlines: number[] = [];
  let nowMs = performance.now();
  let timedOut = 0;
  const ticker = setInterval(() => {
    nowMs = performance.now();
    for (const deadline of deadlines) if (deadline < nowMs) timedOut++;
  }, 10);
  let loopsOpened = 0;
  const running = loops(connections, async () => {
    const { conn, buf } = await connectTo(url);
    const at = loopsOpened++;
    deadlines[at] = Infinity;
    let startMs = 0;
    const finish = () => {
      deadlines[at] = Infinity;
      histogram.recordValue(Math.round((performance.now() - startMs) * 1000));
    };
    const http = {
      get(): Promise<void> {
        startMs = performance.now();
        deadlines[at] = nowMs + 60_000;
        return exchange(conn, request, buf, finish);
      },
    };
    const task = async (ctx: { http: typeof http }) => {
      await ctx.http.get();
    };
    return { once: () => task({ http }), close: () => conn.close() };
  });
  return {
    count: running.count,
    stop: async () => {
      await running.stop();
      clearInterval(ticker);
      if (timedOut > 0) throw new Error(`${timedOut} requests past their deadline`);
    },
  };
}

// ---- Stampede's pieces --------------------------------------------------------------------

/** The h1 engine's session alone: one prebuilt request, its deadline from a clock read. */
async function session({ root, url, connections }: Setup): Promise<Running> {
  const { createH1Engine }: typeof import("../core/http/h1/engine.ts") = await import(
    `${root}/core/http/h1/engine.ts`
  );
  const engine = createH1Engine({ insecure: false });
  const abort = new AbortController();
  const target = new URL(REQUEST_PATH, url);
  const headers = { "user-agent": "stampede" };
  const headSlot = { head: null };
  // The engine's response as the result (the same as AS_RESPONSE, written out so that a checkout
  // from before `send` took it runs too).
  const asResponse = {
    answered: (_request: unknown, response: unknown) => response,
    failed: (_request: unknown, error: unknown): never => {
      throw error;
    },
  };
  return loops(connections, () => {
    const s = engine.createSession(abort.signal);
    const request = () => ({
      method: "GET",
      url: target,
      headers,
      body: null,
      headSlot,
      deadlineMs: performance.now() + 60_000,
      timeoutMs: 60_000,
      keepBody: true,
      retries: 0,
      trace: null,
    });
    // Since `send` takes the end (two parameters before `fresh`); before, a second argument was
    // `fresh` and would open a connection per request.
    const once = s.send.length >= 2
      ? () => s.send(request(), asResponse)
      : () => (s.send as (r: ReturnType<typeof request>) => Promise<unknown>)(request());
    return Promise.resolve({ once, close: () => s.close() });
  });
}

/** `ctx.http.get()` in a bare loop, recording into a counting sink or the worker's stats. */
async function client({ root, url, connections }: Setup, withStats: boolean): Promise<Running> {
  const { createHttpClientFactory }: typeof import("../core/http/client.ts") = await import(
    `${root}/core/http/client.ts`
  );
  const { RequestStats }: typeof import("../core/stats/request_stats.ts") = await import(
    `${root}/core/stats/request_stats.ts`
  );
  const nowhere = { record: () => {}, abort: () => {}, retried: () => {} };
  const counter: RequestSink = { ...nowhere, check: () => {}, endpoint: () => nowhere };
  const stats = new RequestStats();
  const factory = createHttpClientFactory(withStats ? stats : counter, {
    host: url.origin,
    timeoutMs: 60_000,
    headers: {},
    engine: "h1",
    insecure: false,
  });
  const abort = new AbortController();
  return loops(connections, () => {
    const http = factory(abort.signal);
    return Promise.resolve({ once: () => http.get(REQUEST_PATH), close: () => http.close() });
  });
}

/** `VirtualUser`s running bench/plans/flat.plan.ts, with a load worker's starvation check. */
async function user({ root, url, connections }: Setup): Promise<Running> {
  const { createHttpClientFactory }: typeof import("../core/http/client.ts") = await import(
    `${root}/core/http/client.ts`
  );
  const { RequestStats }: typeof import("../core/stats/request_stats.ts") = await import(
    `${root}/core/stats/request_stats.ts`
  );
  const { VirtualUser }: typeof import("../core/run/virtual_user.ts") = await import(
    `${root}/core/run/virtual_user.ts`
  );
  const { normalizeUsers }: typeof import("../core/plan/plan.ts") = await import(
    `${root}/core/plan/plan.ts`
  );
  const { createRunInfo }: typeof import("../core/run_info.ts") = await import(
    `${root}/core/run_info.ts`
  );
  const plan: typeof import("../bench/plans/flat.plan.ts") = await import(
    `${root}/bench/plans/flat.plan.ts`
  );
  const [kind] = normalizeUsers(plan.default.users);
  const stats = new RequestStats();
  // As in a load worker: a 10 ms tick marks the event loop alive; a late one makes users yield.
  // "Now" is the last request's clock read when there was one since the last check.
  let lastTickMs = performance.now();
  const tick = setInterval(() => lastTickMs = performance.now(), 10);
  const clock = { lastMs: 0, reads: 0 };
  let readsSeen = 0;
  const env = {
    stats,
    run: createRunInfo({ testplan: "layered", host: url.origin }),
    createHttpClient: createHttpClientFactory(stats, {
      host: url.origin,
      timeoutMs: 60_000,
      headers: {},
      engine: "h1",
      insecure: false,
      clock,
    }),
    data: {},
    clock,
    // Given "now" by the user (since 2026-11-30); a checkout from before asks without it.
    yieldIfStarved: (given?: number) => {
      let nowMs = given;
      if (nowMs === undefined) {
        nowMs = clock.reads !== readsSeen ? clock.lastMs : performance.now();
        readsSeen = clock.reads;
      }
      return nowMs - lastTickMs > 50
        ? new Promise<void>((resolve) => setTimeout(resolve, 0))
        : undefined;
    },
  };
  const users = Array.from(
    { length: connections },
    (_, i) => new VirtualUser({ index: i, kindIndex: i }, kind, env),
  );
  let counted = 0;
  return {
    count: () => counted += requestsIn(stats.takeDelta()),
    stop: async () => {
      for (const u of users) u.stop();
      await Promise.all(users.map((u) => u.done));
      clearInterval(tick);
    },
  };
}

/**
 * A `LoadWorker` on this thread (system sampling on, as in a Web Worker), its stats every second.
 * Its requests are only known from those messages: the span runs from the first one to the last.
 * `traced`: with `--traces` at ratio 0, what tracing costs a request that is not kept (ids, the
 * sampler, the `traceparent` in its head); no span is exported, so no collector is needed.
 */
async function worker({ root, url, connections }: Setup, seconds: number, traced: boolean) {
  const { LoadWorker }: typeof import("../core/run/load_worker.ts") = await import(
    `${root}/core/run/load_worker.ts`
  );
  const { createRunInfo }: typeof import("../core/run_info.ts") = await import(
    `${root}/core/run_info.ts`
  );
  const plan: typeof import("../bench/plans/flat.plan.ts") = await import(
    `${root}/bench/plans/flat.plan.ts`
  );
  const { resolveTraceConfig }: typeof import("../recorders/otel/trace_config.ts") = await import(
    `${root}/recorders/otel/trace_config.ts`
  );
  const traces = {
    sinkUrl: new URL(`file://${root}/recorders/otel/span_sink.ts`).href,
    sinkOptions: resolveTraceConfig(
      { traces: true, traceSampleRatio: 0, traceEndpoint: "http://127.0.0.1:9" },
      () => undefined,
    ),
    tracestate: null,
  };
  const marks: { atMs: number; requests: number; cpuS: number }[] = [];
  let requests = 0;
  const w = new LoadWorker(
    (message) => {
      if (message.type !== "stats" && message.type !== "stopped") return;
      requests += requestsIn(message.delta);
      marks.push({ atMs: performance.now(), requests, cpuS: cpuSeconds() });
    },
    plan.default,
    { sampleSystem: true },
  );
  await w.handle({
    type: "init",
    workerId: 1,
    planUrl: "",
    run: createRunInfo({ testplan: "layered", host: url.origin }),
    statsIntervalMs: 1000,
    maxNames: 500,
    workers: 1,
    arrivals: [],
    iterations: null,
    http: {
      host: url.origin,
      engine: "h1",
      insecure: false,
      timeoutMs: 60_000,
      headers: {},
      ...(traced ? { traces } : {}),
    },
    data: [],
  });
  await w.handle({ type: "users", counts: { u: connections } });
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS + seconds * 1000 + 50));
  await w.handle({ type: "stop", timeoutMs: 5_000 });
  const first = marks[0];
  const last = marks[marks.length - 2] ?? marks[marks.length - 1];
  return {
    requests: last.requests - first.requests,
    seconds: (last.atMs - first.atMs) / 1000,
    cpuS: last.cpuS - first.cpuS,
  };
}

async function start(layer: InProcessLayer, setup: Setup): Promise<Running> {
  switch (layer) {
    case "floor":
      return floor(setup);
    case "minimal":
      return minimal(setup);
    case "session":
      return await session(setup);
    case "client":
      return await client(setup, false);
    case "stats":
      return await client(setup, true);
    case "user":
      return await user(setup);
    default:
      throw new Error(`Cannot run layer "${layer}" here`);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      root: { type: "string", default: new URL("../", import.meta.url).pathname },
      url: { type: "string" },
      connections: { type: "string", default: "64" },
      seconds: { type: "string", default: "5" },
      "fake-socket": { type: "boolean", default: false },
    },
  });
  if (values["fake-socket"]) installFakeSockets();
  const layer = positionals[0] as InProcessLayer;
  const setup = {
    root: values.root!.replace(/\/$/, ""),
    url: new URL(values.url!),
    connections: Math.min(1024, Number(values.connections)),
  };
  const seconds = Math.min(10, Number(values.seconds));
  if (layer === "worker" || layer === "worker-traced") {
    console.log(JSON.stringify(await worker(setup, seconds, layer === "worker-traced")));
  } else {
    const running = await start(layer, setup);
    await sleep(WARMUP_MS);
    const from = { atMs: performance.now(), requests: running.count(), cpuS: cpuSeconds() };
    await sleep(seconds * 1000);
    const to = { atMs: performance.now(), requests: running.count(), cpuS: cpuSeconds() };
    await running.stop();
    console.log(JSON.stringify({
      requests: to.requests - from.requests,
      seconds: (to.atMs - from.atMs) / 1000,
      cpuS: to.cpuS - from.cpuS,
    }));
  }
  Deno.exit(0);
}
