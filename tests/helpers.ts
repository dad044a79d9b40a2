// Shared pieces of the end-to-end tests: a counting target server and running cli.ts.
import type { Summary } from "../core/stats/summary.ts";

/** A target server on 127.0.0.1 that counts every request it receives, by "METHOD /path". */
export interface CountingServer {
  url: string;
  port: number;
  /** Requests received, by `METHOD /path` (the path without its query). */
  counts: Map<string, number>;
  /** Sum of all counts. */
  total(): number;
  shutdown(): Promise<void>;
}

/**
 * Starts a counting server on 127.0.0.1, port 0. `handle` answers (default: 200 "ok");
 * the request is counted when it arrives, before `handle` runs.
 */
export function startCountingServer(
  handle: (req: Request, url: URL) => Response | Promise<Response> = () => new Response("ok"),
): CountingServer {
  const counts = new Map<string, number>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => {
      const url = new URL(req.url);
      const key = `${req.method} ${url.pathname}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      return handle(req, url);
    },
  );
  const port = (server.addr as Deno.NetAddr).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    counts,
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    shutdown: () => server.shutdown(),
  };
}

/** A port on 127.0.0.1 that was free a moment ago (nothing listens there now). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Command-line arguments from a template: the literal text splits on whitespace, interpolated
 * values are never split (so paths with spaces survive) and join the text they touch:
 * argv`${root}plan.ts --host ${url} --run-time 2s`.
 */
export function argv(strings: TemplateStringsArray, ...values: unknown[]): string[] {
  const args: string[] = [];
  let current: string | null = null;
  strings.forEach((text, i) => {
    for (const piece of text.split(/(\s+)/)) {
      if (/^\s+$/.test(piece)) {
        if (current !== null) args.push(current);
        current = null;
      } else if (piece.length > 0) {
        current = (current ?? "") + piece;
      }
    }
    if (i < values.length) current = (current ?? "") + String(values[i]);
  });
  if (current !== null) args.push(current);
  return args;
}

/** What a finished `cli.ts` subprocess left. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The repository root, for paths in tests. */
export const ROOT = new URL("../", import.meta.url).pathname;
const CLI = new URL("../cli.ts", import.meta.url).pathname;

/** Options of {@link runCli}. */
export interface RunCliOptions {
  env?: Record<string, string>;
  /** Working directory of the process (relative recorder paths resolve against it). */
  cwd?: string;
  /** Sends this signal after `signalAfterMs`. */
  signal?: Deno.Signal;
  signalAfterMs?: number;
  /** Kills the process after this long (a safety net; default 60 s). */
  timeoutMs?: number;
  /** Called with the running process, e.g. to wait for output before a signal. */
  onStart?: (child: Deno.ChildProcess) => void;
}

/** Runs `deno run -A cli.ts ...args` and returns its exit code and output. */
export async function runCli(args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  options.onStart?.(child);
  const timers: ReturnType<typeof setTimeout>[] = [];
  if (options.signal) {
    timers.push(setTimeout(() => child.kill(options.signal!), options.signalAfterMs ?? 1000));
  }
  timers.push(setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000));
  const output = await child.output();
  for (const t of timers) clearTimeout(t);
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** A fresh temporary directory, removed by the returned function. */
export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await Deno.makeTempDir({ prefix: "stampede-test-" });
  return { path, remove: () => Deno.remove(path, { recursive: true }) };
}

/** What {@link runCliWithSummary} returns: the process's output and its summary file. */
export interface CliRunWithSummary extends CliResult {
  summary: Summary;
}

/**
 * Runs `cli.ts ...args --summary <temp file>` and returns the output with the parsed summary;
 * fails when the run wrote none.
 */
export async function runCliWithSummary(
  args: string[],
  options: RunCliOptions = {},
): Promise<CliRunWithSummary> {
  const dir = await tempDir();
  try {
    const result = await runCli([...args, "--summary", `${dir.path}/summary.json`], options);
    let summary: Summary;
    try {
      summary = await readSummary(`${dir.path}/summary.json`);
    } catch (cause) {
      throw new Error(`the run wrote no summary (exit ${result.code}): ${result.stderr}`, {
        cause,
      });
    }
    return { ...result, summary };
  } finally {
    await dir.remove();
  }
}

/** Reads and parses a summary JSON file written by `--summary`. */
export async function readSummary(path: string): Promise<Summary> {
  return JSON.parse(await Deno.readTextFile(path));
}

/**
 * Validates a JUnit XML file against tests/fixtures/junit/junit.xsd with xmllint (Debian's
 * libxml2-utils, which .ci/apt-packages installs).
 */
export async function assertValidJunit(path: string): Promise<void> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("xmllint", {
      args: ["--noout", "--schema", `${ROOT}tests/fixtures/junit/junit.xsd`, path],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (cause) {
    throw new Error("xmllint is missing: install libxml2-utils (see .ci/apt-packages)", { cause });
  }
  if (!output.success) {
    throw new Error(`${path} is not valid JUnit XML: ${new TextDecoder().decode(output.stderr)}`);
  }
}
