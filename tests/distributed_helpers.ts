// Shared pieces of the distributed-run tests: cli.ts processes (a coordinator, its workers) whose
// output can be waited for while they run, and a plan's summary and JSON records read back.
import type { CliResult } from "./helpers.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

/** A running `cli.ts` process. */
export interface CliProcess {
  readonly child: Deno.ChildProcess;
  /** Its stderr so far. */
  stderr(): string;
  /** Resolves once its stderr matches `pattern`; rejects after `timeoutMs` or when it exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Its exit code and whole output. */
  readonly result: Promise<CliResult>;
}

/** Options of {@link spawnCli}. */
export interface SpawnOptions {
  env?: Record<string, string>;
  /** Its working directory. */
  cwd?: string;
  /** Runs `deno` with these flags before `run` (e.g. in a network namespace: a wrapper). */
  prefix?: string[];
  /** Kills it after this long (a safety net; default 90 s). */
  timeoutMs?: number;
}

/** Starts `deno run -A cli.ts ...args` (after `prefix`, e.g. `ip netns exec ns`). */
export function spawnCli(args: string[], options: SpawnOptions = {}): CliProcess {
  const [command, ...rest] = [...options.prefix ?? [], Deno.execPath(), "run", "-A", CLI, ...args];
  const child = new Deno.Command(command, {
    args: rest,
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  let stdout = "";
  let exited = false;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of waiters) w();
  };
  const decoder = new TextDecoder();
  const read = async (stream: ReadableStream<Uint8Array>, add: (text: string) => void) => {
    for await (const chunk of stream) {
      add(decoder.decode(chunk, { stream: true }));
      wake();
    }
  };
  const reading = Promise.all([
    read(child.stdout, (t) => stdout += t),
    read(child.stderr, (t) => stderr += t),
  ]);
  const safety = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, options.timeoutMs ?? 90_000);
  const result = (async () => {
    const status = await child.status;
    await reading;
    clearTimeout(safety);
    exited = true;
    wake();
    return { code: status.code, stdout, stderr };
  })();
  return {
    child,
    stderr: () => stderr,
    result,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(stderr)) done(resolve);
          else if (exited) done(() => reject(new Error(`exited before ${pattern}:\n${stderr}`)));
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${stderr}`))),
          timeoutMs,
        );
        const done = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** The JSON lines of a json recorder's file. */
export async function readRecords(path: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(path);
  return text.trimEnd().split("\n").filter((l) => l !== "").map((line) => JSON.parse(line));
}
