// The facts of one run that every part shares: its id, name, host and tags, and why it ended.
import { VERSION } from "./version.ts";

/** Facts about one run, created on the coordinator and sent to every load worker. */
export interface RunInfo {
  /** Unique id of this run. */
  readonly runId: string;
  /** The test plan's name (`--testplan`, else the plan's `name`, else its file name). */
  readonly testplan: string;
  /** Target base URL. */
  readonly host: string;
  /** When the run was created (before the load workers start), RFC 3339 UTC with ms. */
  readonly startedAt: string;
  /** Stampede's version. */
  readonly version: string;
  /** User tags (`--tag key=value`), attached to every record. */
  readonly tags: Readonly<Record<string, string>>;
  /** Metadata contributed by recorder plugins. */
  readonly metadata: Readonly<Record<string, string>>;
}

/** Creates the run's facts with a fresh `runId`. */
export function createRunInfo(init: {
  testplan: string;
  host: string;
  tags?: Record<string, string>;
  metadata?: Record<string, string>;
  now?: Date;
}): RunInfo {
  return Object.freeze({
    runId: crypto.randomUUID(),
    testplan: init.testplan,
    host: init.host,
    startedAt: (init.now ?? new Date()).toISOString(),
    version: VERSION,
    tags: Object.freeze({ ...init.tags }),
    metadata: Object.freeze({ ...init.metadata }),
  });
}

/**
 * Why the run ended: its time ran out (`completed`), Ctrl-C (`interrupted`), SIGTERM
 * (`terminated`), every user ended by itself (`all_users_stopped`), the iteration limit was
 * reached (`iterations`), an abortOnFail threshold was crossed (`threshold`), or every load
 * worker failed (`failed`).
 */
export type StopReason =
  | "completed"
  | "interrupted"
  | "terminated"
  | "all_users_stopped"
  | "iterations"
  | "threshold"
  | "failed";

/** Why a signal stopped the run: its reason says SIGTERM, else it was SIGINT or an abort. */
export function signalReason(signal: AbortSignal | undefined): StopReason {
  return signal?.reason === "terminated" ? "terminated" : "interrupted";
}
