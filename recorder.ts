/**
 * The recorder plugin contract, for authors of recorders: the plugin and its four handlers
 * (output, lifecycle, request stats, system samples), the snapshots they receive, and the sinks
 * and option readers the built-in recorders use. `examples/interval_csv_recorder.ts` shows a whole one.
 * @module
 */
export type {
  FinalSnapshot,
  IntervalSnapshot,
  LifecycleEvent,
  LifecycleEventData,
  LifecycleEventName,
  LifecycleHandler,
  OutputHandler,
  Recorder,
  RecorderContext,
  RecorderOption,
  RecorderPlugin,
  RequestHandler,
  RequestStatsHandler,
  SystemHandler,
  SystemSample,
} from "./core/recorder/types.ts";
export type { RunInfo, StopReason } from "./core/run_info.ts";
export type {
  EndpointHistogram,
  EndpointStats,
  FailureStats,
  IntervalCell,
  StatsView,
} from "./core/stats/types.ts";
export { fileSink, openFileSink, type TextSink } from "./core/sink.ts";
export { booleanOption, parseBoolean, stringOption } from "./core/option_values.ts";
