// Where does a request's time go? Stampede's real pieces, added one layer at a time on top of the
// bare socket loop, against one fast target (nginx `return 200`), in one run:
//
//   floor    64 sockets writing a fixed GET and reading to the end of the response (no HTTP client)
//   minimal  a minimal load tester on the floor (issue 18's reference): a user loop awaiting an
//            async task awaiting an async get, a clock pair and an HDR record, a shared deadline
//            ticker; Stampede's layers are compared with it in the "× minimal" column
//   session  + the h1 engine: `HttpSession.send` in a loop (request head cache, parser, deadline)
//   client   + `ctx.http`'s `request()` (prepare, exchange, the response object), a counting sink
//   stats    + the worker's `RequestStats` (cell lookup, HDR record) as the sink
//   user     + `VirtualUser` running bench/plans/flat.plan.ts's task (the task's awaits, the wait,
//              the starvation check against a 10 ms tick, as a load worker has)
//   worker   + `LoadWorker` in this thread (its tick, the system sampler, 1 s stats deltas)
//   worker-traced  the same with `--traces` at ratio 0: what tracing costs a request not kept
//   cli0     the CLI, `--workers 0`: coordinator and load worker on one thread, console only
//   cli      the CLI, `--workers 1`: the load worker in a Web Worker, console only
//   cli-all  the CLI, `--workers 1`, every recorder on (json to a file, prometheus, otel)
//   wrk      `wrk -t1`, the peer tool
//
// Each layer runs as its own process pinned to core 0 (nginx on core 1), in `--rounds` interleaved
// rounds (A B C … A B C …), and is measured for `--seconds` after a second of warm-up (the first
// second runs about a fifth slower: JIT, heap growth): the in-process layers
// (layered_path_layers.ts) mark their own span, the CLI's is read from its live line, one a
// second. The table gives medians of requests/s and of CPU µs per request (user + system of the
// whole process, every thread, from /proc), and ratios as medians of per-round ratios. A sample
// taken while other programs were busy on the machine is taken again (up to twice).
//
//   deno run -A tools/layered_path.ts [--rounds 3] [--seconds 5] [--connections 64]
//       [--layers floor,session,...] [--url http://127.0.0.1:PORT/] [--compare DIR]
//       [--fake-socket]
//
// `--fake-socket` runs the in-process layers (floor … worker) on connections in memory that
// answer at once: their JavaScript alone, without the kernel's share and its noise.
// `--compare DIR` runs every Stampede layer a second time from another checkout of the project
// (e.g. `git worktree`-free: `git archive <commit> | tar -x -C DIR`), interleaved with this one:
// the before/after of a change, in the same run. Bounded: at most 20 rounds of at most 10 s per
// layer (3 attempts each); only 127.0.0.1 targets.
import { parseArgs } from "node:util";
import { IN_PROCESS_LAYERS } from "./layered_path_layers.ts";
import {
  childrenOf,
  childSample,
  cliSample,
  type Disturbed,
  MAX_OTHERS_CORES,
  type Sample,
  waitForQuiet,
  watchTarget,
  wrkSample,
} from "./layered_path_samples.ts";

const LAYERS = [...IN_PROCESS_LAYERS, "cli0", "cli", "cli-all", "wrk"] as const;
type Layer = typeof LAYERS[number];
const CHILD_LAYERS = new Set<string>(IN_PROCESS_LAYERS);
const HERE = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

// ---- The run ------------------------------------------------------------------------------

async function startNginx(): Promise<{ url: URL; stop(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "layered-nginx-" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await Deno.mkdir(`${dir}/logs`);
  await Deno.writeTextFile(
    `${dir}/nginx.conf`,
    `daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/logs/error.log warn;
worker_rlimit_nofile 30000;
events { worker_connections 25000; }
http { access_log off; keepalive_requests 100000000; keepalive_timeout 300s;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server { listen 127.0.0.1:${port} backlog=4096;
    location / { default_type text/plain; return 200 "hello, world\\n"; } } }
`,
  );
  const nginx = new Deno.Command("taskset", {
    args: ["-c", "1", "nginx", "-c", `${dir}/nginx.conf`, "-p", dir, "-e", `${dir}/logs/error.log`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0; i < 100; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  watchTarget([nginx.pid, ...childrenOf(nginx.pid)]);
  return {
    url: new URL(`http://127.0.0.1:${port}/`),
    stop: async () => {
      nginx.kill("SIGQUIT");
      await nginx.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rounds: { type: "string", default: "3" },
      seconds: { type: "string", default: "5" },
      connections: { type: "string", default: "64" },
      layers: { type: "string", default: LAYERS.filter((l) => l !== "cli-all").join(",") },
      url: { type: "string" },
      compare: { type: "string" },
      "fake-socket": { type: "boolean", default: false },
    },
  });
  const rounds = Math.min(20, Number(values.rounds));
  const seconds = Math.min(10, Number(values.seconds));
  const connections = Math.min(1024, Number(values.connections));
  const layers = values.layers!.split(",") as Layer[];
  for (const layer of layers) {
    if (!LAYERS.includes(layer)) throw new Error(`Cannot measure layer "${layer}": unknown`);
    if (values["fake-socket"] && !CHILD_LAYERS.has(layer)) {
      throw new Error(`Cannot measure layer "${layer}" with --fake-socket: it is another program`);
    }
  }
  const nginx = values.url ? null : await startNginx();
  const url = nginx?.url ?? new URL(values.url!);
  if (url.hostname !== "127.0.0.1") throw new Error(`Cannot load "${url}": only 127.0.0.1`);
  const roots: [string, string][] = [["", HERE]];
  if (values.compare) roots.unshift(["before ", values.compare.replace(/\/$/, "")]);
  /** Samples by row, then by round. */
  const samples = new Map<string, Map<number, Sample>>();
  const rows: string[] = [];
  for (const layer of layers) {
    for (const [tag] of roots) {
      if (tag && (layer === "wrk" || layer === "floor" || layer === "minimal")) continue;
      rows.push(tag + layer);
      samples.set(tag + layer, new Map());
    }
  }
  console.error(`target ${url.href}, ${connections} connections, ${rounds} × ${seconds} s`);
  const measure = (layer: Layer, root: string): Promise<Disturbed> =>
    layer === "wrk" ? wrkSample(url, connections, seconds) : CHILD_LAYERS.has(layer)
      ? childSample([
        `${HERE}/tools/layered_path_layers.ts`,
        ...[layer, "--root", root, "--url", url.href],
        ...(values["fake-socket"] ? ["--fake-socket"] : []),
        ...["--connections", String(connections), "--seconds", String(seconds)],
      ], root)
      : cliSample(layer as "cli", root, url, connections, seconds);
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const layer of layers) {
        for (const [tag, root] of roots) {
          if (!samples.has(tag + layer)) continue;
          // Another program busy on the machine (tests of other people) skews a sample: it is
          // taken again, up to twice, and the least disturbed one is kept.
          let best: Disturbed | null = null;
          for (let attempt = 0; attempt < 3; attempt++) {
            if (nginx) await waitForQuiet();
            try {
              const sample = await measure(layer, root);
              if (best === null || sample.othersCores < best.othersCores) best = sample;
            } catch (error) {
              console.error(`round ${round} ${tag}${layer}: FAILED ${(error as Error).message}`);
            }
            if (best !== null && (!nginx || best.othersCores < MAX_OTHERS_CORES)) break;
          }
          if (best === null) continue;
          samples.get(tag + layer)!.set(round, best);
          console.error(
            `round ${round} ${tag}${layer}: ${(best.requests / best.seconds).toFixed(0)} req/s, ${
              (best.cpuS * 1e6 / best.requests).toFixed(2)
            } CPU µs/req${
              nginx ? `, others ${(100 * best.othersCores).toFixed(0)} % of a core` : ""
            }`,
          );
        }
      }
    }
  } finally {
    await nginx?.stop();
  }
  printTable(rows, samples, values.compare !== undefined);
}

/**
 * The medians of each row, and its ratios to the floor, to wrk and (with `--compare`) to its
 * "before" row, each the median of per-round ratios: a round's samples ran minutes apart at
 * most, so a machine that is slower for a while slows both sides of a ratio alike.
 */
function printTable(rows: string[], samples: Map<string, Map<number, Sample>>, compare: boolean) {
  const rateOf = (s: Sample) => s.requests / s.seconds;
  const cpuOf = (s: Sample) => s.cpuS * 1e6 / s.requests;
  const ratio = (row: string, to: string, of: (s: Sample) => number) => {
    const base = samples.get(to);
    const ratios = [...samples.get(row)!].filter(([round]) => base?.has(round))
      .map(([round, s]) => of(s) / of(base!.get(round)!));
    return ratios.length ? median(ratios).toFixed(2) : "–";
  };
  const header = ["layer", "req/s", "wall µs/req", "CPU µs/req", "× floor", "× minimal", "× wrk"];
  if (compare) header.push("req/s × before", "CPU × before");
  console.log(`| ${header.join(" | ")} |\n|---|${header.slice(1).map(() => "---:|").join("")}`);
  for (const row of rows) {
    const all = [...samples.get(row)!.values()];
    if (all.length === 0) continue;
    const rate = median(all.map(rateOf));
    const cells = [
      row,
      rate.toFixed(0),
      (1e6 / rate).toFixed(2),
      median(all.map(cpuOf)).toFixed(2),
      ratio(row, "floor", rateOf),
      ratio(row, "minimal", rateOf),
      ratio(row, "wrk", rateOf),
    ];
    if (compare) {
      const before = row.startsWith("before ") ? null : `before ${row}`;
      cells.push(
        before && samples.has(before) ? ratio(row, before, rateOf) : "",
        before && samples.has(before) ? ratio(row, before, cpuOf) : "",
      );
    }
    console.log(`| ${cells.join(" | ")} |`);
  }
}

if (import.meta.main) await main();
