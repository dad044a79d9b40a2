// The built-in recorders, each imported only when a run asks for it.
import { RecorderRegistry } from "../core/recorder/registry.ts";

/** The built-in recorders by id, each imported only when a run asks for it. */
export function builtinRegistry(): RecorderRegistry {
  return new RecorderRegistry()
    .register("console", async () => (await import("./console.ts")).consoleRecorder)
    .register("otel", async () => (await import("./otel/recorder.ts")).otelRecorder)
    .register(
      "prometheus",
      async () => (await import("./prometheus/recorder.ts")).prometheusRecorder,
    )
    .register("json", async () => (await import("./json.ts")).jsonRecorder)
    .register("csv", async () => (await import("./locust_csv/recorder.ts")).locustCsvRecorder)
    .register("report", async () => (await import("./report/recorder.ts")).reportRecorder);
}
