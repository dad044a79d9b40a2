// The signals a command line stops on: SIGINT, and SIGTERM where there is one.
import { fileSink } from "../core/sink.ts";

const stderr = fileSink(Deno.stderr);

/**
 * SIGINT and SIGTERM: the first stops gracefully (running tasks get --stop-timeout); a second
 * cuts them off at once. Either way the final stats, records and summary are written.
 */
export function listenForSignals(): { signal: AbortSignal; cutOff: AbortSignal; close(): void } {
  const stop = new AbortController();
  const cutOff = new AbortController();
  const onSignal = (reason: string) => () => {
    const name = reason === "terminated" ? "SIGTERM" : "SIGINT";
    if (!stop.signal.aborted) {
      stderr.write(`\nstampede: ${name}: stopping (again to cut running tasks off)...\n`);
      stop.abort(reason);
    } else if (!cutOff.signal.aborted) {
      stderr.write(`\nstampede: ${name} again: cutting running tasks off...\n`);
      cutOff.abort();
    }
  };
  const sigint = onSignal("interrupted");
  const sigterm = onSignal("terminated");
  const withTerm = Deno.build.os !== "windows";
  Deno.addSignalListener("SIGINT", sigint);
  if (withTerm) Deno.addSignalListener("SIGTERM", sigterm);
  return {
    signal: stop.signal,
    cutOff: cutOff.signal,
    close() {
      Deno.removeSignalListener("SIGINT", sigint);
      if (withTerm) Deno.removeSignalListener("SIGTERM", sigterm);
    },
  };
}

/** The first SIGINT or SIGTERM aborts (reason `interrupted` or `terminated`). */
export function abortOnSignal(): { signal: AbortSignal; close(): void } {
  const stop = new AbortController();
  const listeners: [Deno.Signal, () => void][] = [
    ["SIGINT", () => stop.abort("interrupted")],
    ...(Deno.build.os === "windows"
      ? []
      : [["SIGTERM", () => stop.abort("terminated")] as [Deno.Signal, () => void]]),
  ];
  for (const [name, listener] of listeners) Deno.addSignalListener(name, listener);
  return {
    signal: stop.signal,
    close: () => {
      for (const [name, listener] of listeners) Deno.removeSignalListener(name, listener);
    },
  };
}
