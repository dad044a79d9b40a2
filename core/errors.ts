// The errors a person can act on, their exit codes, and the short error texts failures group by.
/** Exit codes of the `stampede` CLI; README.md documents each one. */
export const ExitCode = {
  /** The run completed. */
  ok: 0,
  /** An unexpected internal error; or, in a run without thresholds, failed requests. */
  internal: 1,
  /** A run without thresholds had failed requests (`--exit-code-on-error` changes it). */
  failures: 1,
  /** Bad command line: an unknown flag, a bad value. */
  usage: 2,
  /** The plan cannot be loaded or is invalid. */
  plan: 3,
  /** The run could not go on: every load worker failed, or a worker could not start. */
  run: 4,
  /** A threshold was crossed (k6's code). */
  threshold: 99,
  /** Stopped by SIGINT (Ctrl-C); final stats were still written. */
  interrupted: 130,
  /** Stopped by SIGTERM; final stats were still written. */
  terminated: 143,
} as const;

/** An error a person can act on: its message is one line saying what failed and why. */
export class StampedeError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "StampedeError";
    this.exitCode = exitCode;
  }
}

/** A bad flag, env var or option value. */
export class UsageError extends StampedeError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.usage, options);
    this.name = "UsageError";
  }
}

/** A plan that cannot be loaded or does not describe a valid load test. */
export class PlanError extends StampedeError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.plan, options);
    this.name = "PlanError";
  }
}

/** A failure during the run that ends it (all load workers lost, a worker that cannot start). */
export class RunError extends StampedeError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.run, options);
    this.name = "RunError";
  }
}

/** Thrown by a task to end its virtual user; not a failure. */
export class StopUser extends Error {
  constructor(message = "user stopped") {
    super(message);
    this.name = "StopUser";
  }
}

/**
 * Thrown by a `unique` data feed that has no rows left: it ends the user that asked, like
 * {@link StopUser}, and is not a failure.
 */
export class DataExhausted extends StopUser {
  constructor(readonly feed: string) {
    super(`data "${feed}" has no rows left: each row of a unique feed is given out once`);
    this.name = "DataExhausted";
  }
}

/** Thrown out of a request or a sleep when the run stops; ends the task, is not a failure. */
export class RunStopped extends Error {
  constructor() {
    super("the run stopped");
    this.name = "RunStopped";
  }
}

/** Short, low-cardinality text of an error, for grouping failures. */
export function describeError(error: unknown, maxLength = 200): string {
  const text = error instanceof Error
    ? error.message ? `${error.name}: ${error.message}` : error.name
    : String(error);
  const line = text.split("\n", 1)[0];
  return line.length > maxLength ? `${line.slice(0, maxLength - 3)}...` : line;
}

/** An error's first line for a person to read (a plan that fails to load): long, not grouped. */
export function explainError(error: unknown): string {
  return describeError(error, 2000);
}
