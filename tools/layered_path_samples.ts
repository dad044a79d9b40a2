// How tools/layered_path.ts takes one sample: a program pinned to core 0 under GNU time, its
// requests and CPU, and how busy the rest of the machine was meanwhile (from /proc), so that a
// disturbed sample can be taken again.

const CLOCK_TICKS_PER_SEC = 100;
/** A sample during which other programs used more CPU than this (in cores) is taken again. */
export const MAX_OTHERS_CORES = 0.15;

/** One measurement: requests over the measured span, and the process's CPU over it. */
export interface Sample {
  requests: number;
  seconds: number;
  cpuS: number;
}

export function cpuSecondsOf(pid: number | "self"): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SEC;
}

/** Busy CPU seconds of the whole machine so far (user, nice, system, irq, softirq). */
function machineBusyS(): number {
  const [user, nice, system, _idle, _iowait, irq, softirq] = Deno.readTextFileSync("/proc/stat")
    .split("\n")[0].trim().split(/\s+/).slice(1, 8).map(Number);
  return (user + nice + system + irq + softirq) / CLOCK_TICKS_PER_SEC;
}

export function childrenOf(pid: number): number[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim().split(" ")
      .filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The target's processes, whose CPU is not a disturbance. */
let targetPids: number[] = [];

/** Names the target's processes (their CPU is not counted as other programs'). */
export function watchTarget(pids: number[]): void {
  targetPids = pids;
}

function targetCpuS(): number {
  let sum = 0;
  for (const pid of targetPids) {
    try {
      sum += cpuSecondsOf(pid);
    } catch { /* gone */ }
  }
  return sum;
}

/**
 * Waits (up to a minute) until the machine is quiet: other programs busy for less than
 * {@link MAX_OTHERS_CORES} over half a second.
 */
export async function waitForQuiet(): Promise<void> {
  for (let waited = 0; waited < 60_000; waited += 500) {
    const busy0 = machineBusyS() - targetCpuS() - cpuSecondsOf("self");
    await new Promise((resolve) => setTimeout(resolve, 500));
    const busy = machineBusyS() - targetCpuS() - cpuSecondsOf("self") - busy0;
    if (busy / 0.5 < MAX_OTHERS_CORES) return;
  }
}

/** What a measured program left: its output, its CPU, and how busy everything else was. */
interface Measured {
  stdout: string;
  cpuS: number;
  /** CPU that neither the program, the target nor this tool used, in cores over the run. */
  othersCores: number;
}

/**
 * Runs `command` pinned to core 0 under GNU time. `onLine` sees each stderr line with the pid of
 * the program itself (time's child).
 */
async function runPinned(
  command: string[],
  onLine?: (line: string, pid: number) => void,
): Promise<Measured> {
  const timeFile = await Deno.makeTempFile();
  const busy0 = machineBusyS();
  const self0 = cpuSecondsOf("self");
  const target0 = targetCpuS();
  const start = performance.now();
  try {
    const child = new Deno.Command("taskset", {
      args: ["-c", "0", "/usr/bin/time", "-f", "%U %S", "-o", timeFile, ...command],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdout = new Response(child.stdout).text();
    let stderr = "";
    let buffered = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderr += chunk;
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        onLine?.(buffered.slice(0, newline), childrenOf(child.pid)[0] ?? child.pid);
        buffered = buffered.slice(newline + 1);
      }
    }
    const status = await child.status;
    if (!status.success) throw new Error(stderr.slice(-400));
    const [user, system] = (await Deno.readTextFile(timeFile)).trim().split("\n").pop()!
      .split(" ").map(Number);
    const elapsedS = (performance.now() - start) / 1000;
    const others = machineBusyS() - busy0 - (user + system) - (cpuSecondsOf("self") - self0) -
      (targetCpuS() - target0);
    return { stdout: await stdout, cpuS: user + system, othersCores: others / elapsedS };
  } finally {
    await Deno.remove(timeFile);
  }
}

/** A sample and how disturbed the machine was while it ran. */
export type Disturbed = Sample & { othersCores: number };

export async function childSample(args: string[], root: string): Promise<Disturbed> {
  const out = await runPinned([
    Deno.execPath(),
    "run",
    "-A",
    "--config",
    `${root}/deno.json`,
    ...args,
  ]);
  return { ...JSON.parse(out.stdout.trim().split("\n").pop()!), othersCores: out.othersCores };
}

export async function wrkSample(
  url: URL,
  connections: number,
  seconds: number,
): Promise<Disturbed> {
  const out = await runPinned(["wrk", "-t1", `-c${connections}`, `-d${seconds}s`, url.href]);
  const match = /(\d+) requests in ([\d.]+)(m?s)/.exec(out.stdout);
  if (!match) throw new Error(`wrk said: ${out.stdout}`);
  return {
    requests: Number(match[1]),
    seconds: Number(match[2]) / (match[3] === "ms" ? 1000 : 1),
    cpuS: out.cpuS,
    othersCores: out.othersCores,
  };
}

/** Free ports and temporary files for the CLI's recorders. */
function recorderFlags(dir: string): string[] {
  const free = () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    return port;
  };
  return [
    ...["--recorder", "console,json,prometheus,otel", "--json-file", `${dir}/records.jsonl`],
    ...["--prometheus-listen", `127.0.0.1:${free()}`, "--prometheus-linger", "0s"],
    // Nothing listens there: exports fail and are reported, as with a collector that is down.
    ...["--otel-endpoint", `http://127.0.0.1:${free()}`],
  ];
}

/**
 * The CLI, measured between its first and last live lines (one a second): requests from the
 * lines' running total, CPU of the whole process (every thread) from /proc at each line.
 */
export async function cliSample(
  layer: "cli0" | "cli" | "cli-all",
  root: string,
  url: URL,
  connections: number,
  seconds: number,
): Promise<Disturbed> {
  const dir = await Deno.makeTempDir({ prefix: "layered-cli-" });
  const points: { atMs: number; requests: number; cpuS: number }[] = [];
  let out: Measured;
  try {
    out = await runPinned([
      ...[Deno.execPath(), "run", "-A", `${root}/cli.ts`],
      ...[`${root}/bench/plans/flat.plan.ts`, "--host", url.origin],
      ...["--users", String(connections), "--spawn-rate", "100000"],
      ...["--run-time", `${seconds + 2}s`, "--workers", layer === "cli0" ? "0" : "1"],
      ...(layer === "cli-all" ? recorderFlags(dir) : ["--recorder", "console"]),
    ], (line, pid) => {
      const total = /\| total (\d+) req/.exec(line);
      if (!total) return;
      try {
        points.push({
          atMs: performance.now(),
          requests: Number(total[1]),
          cpuS: cpuSecondsOf(pid),
        });
      } catch { /* the process is gone */ }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  // Measure from the second line to the last: the first line's total lags behind the requests
  // made by then, so the span from it counted more than its time's requests (74 k/s by the
  // lines against 44 k/s at the target in one run); from the second line on the lines' totals
  // and the target's count agree within 2 % a second.
  if (points.length < 4) throw new Error(`${layer}: only ${points.length} live lines`);
  const first = points[1];
  const last = points[points.length - 1];
  return {
    requests: last.requests - first.requests,
    seconds: (last.atMs - first.atMs) / 1000,
    cpuS: last.cpuS - first.cpuS,
    othersCores: out.othersCores,
  };
}
