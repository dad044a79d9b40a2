// Logging on stderr, configured once the log level is known.
import { configureSync, type LogLevel, type LogRecord } from "npm:@logtape/logtape@2.4.2";
import { fileSink } from "../core/sink.ts";

const stderr = fileSink(Deno.stderr);

/** Sends the `stampede` loggers' records from `level` up to stderr, one line each. */
export function configureLogging(level: LogLevel): void {
  configureSync({
    reset: true,
    sinks: {
      // -- outputs (issue #15): on a terminal, clear the console's live line first, so a warning
      // stands on its own line (the live view is drawn again below it).
      stderr: (record: LogRecord) =>
        stderr.write(
          `${stderr.isTerminal ? "\r\x1b[2K" : ""}stampede: ${record.level}: ${
            record.message.map(String).join("")
          }\n`,
        ),
    },
    loggers: [
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: ["stderr"] },
      { category: ["stampede"], lowestLevel: level, sinks: ["stderr"] },
    ],
  });
}
