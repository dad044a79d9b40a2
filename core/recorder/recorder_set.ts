// The recorders of one run, as the coordinator calls them: every call reaches every recorder in
// order; one that throws or hangs is reported once and the run and the other recorders go on.
// Timeouts and isolation live here, once, not in each recorder.
import { getLogger } from "npm:@logtape/logtape@2.4.2";
import { describeError } from "../errors.ts";
import { ABORTED, settleWithin } from "../timers.ts";
import type {
  FinalSnapshot,
  IntervalSnapshot,
  LifecycleEvent,
  LifecycleEventData,
  LifecycleEventName,
  Recorder,
  StopReason,
  SystemSample,
} from "./types.ts";

/** How long one handler call may take before it is reported as hanging. */
export const RECORDER_CALL_TIMEOUT_MS = 5_000;

interface Member {
  id: string;
  recorder: Recorder;
  /** Calls to one recorder run one after another, in order. */
  chain: Promise<void>;
  /** A call ran past the timeout and has not settled yet. */
  hung: boolean;
}

/**
 * The recorders of a run. Calls reach every recorder in order; one that throws or hangs is
 * reported once per handler and the run and the other recorders go on.
 */
export class RecorderSet {
  readonly #members: Member[];
  readonly #timeoutMs: number;
  readonly #reported = new Set<string>();
  readonly #log = getLogger(["stampede", "recorders"]);
  /** Problems reported so far, one line each. */
  readonly problems: string[] = [];

  constructor(
    recorders: { id: string; recorder: Recorder }[],
    timeoutMs = RECORDER_CALL_TIMEOUT_MS,
  ) {
    this.#members = recorders.map((r) => ({ ...r, chain: Promise.resolve(), hung: false }));
    this.#timeoutMs = timeoutMs;
  }

  #report(id: string, where: string, message: string): void {
    const key = `${id}:${where}`;
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    const line = `recorder "${id}" ${message} in ${where}; the run goes on`;
    this.problems.push(line);
    this.#log.warn("{line}", { line });
  }

  /**
   * Queues a call on every recorder that has the handler. A `droppable` call (a periodic
   * snapshot) is skipped while the recorder hangs in an earlier call, so a hung recorder never
   * builds a backlog that would delay the end; skipping is reported.
   */
  #call(
    where: string,
    pick: (recorder: Recorder) => (() => unknown) | undefined,
    droppable = false,
    timeoutOf: (recorder: Recorder) => number = () => this.#timeoutMs,
  ): void {
    for (const member of this.#members) {
      const call = pick(member.recorder);
      if (!call) continue;
      if (droppable && member.hung) {
        this.#report(member.id, `${where} (skipped while it hangs)`, "lost snapshots");
        continue;
      }
      const timeoutMs = timeoutOf(member.recorder);
      member.chain = member.chain.then(async () => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const hung = new Promise<"hung">((resolve) => {
          timer = setTimeout(() => resolve("hung"), timeoutMs);
        });
        try {
          const pending = Promise.resolve().then(call);
          const outcome = await Promise.race([pending, hung]);
          if (outcome === "hung") {
            member.hung = true;
            pending.then(() => member.hung = false, () => member.hung = false);
            this.#report(member.id, where, `did not answer within ${timeoutMs} ms`);
          }
        } catch (error) {
          this.#report(member.id, where, `failed (${describeError(error)})`);
        } finally {
          clearTimeout(timer);
        }
      });
    }
  }

  /** Emits lifecycle event `name` from `source`, happening `at` (default: now). */
  event<N extends LifecycleEventName>(
    name: N,
    source: string,
    data: LifecycleEventData[N],
    at: Date = new Date(),
  ): void {
    this.lifecycle({ name, at: at.toISOString(), source, data } as LifecycleEvent);
  }

  lifecycle(event: LifecycleEvent): void {
    this.#call("lifecycle.event", (r) => r.lifecycle && (() => r.lifecycle!.event(event)));
  }

  interval(snapshot: IntervalSnapshot): void {
    this.#call("request.interval", (r) => r.request && (() => r.request!.interval(snapshot)), true);
  }

  final(snapshot: FinalSnapshot): void {
    this.#call("request.final", (r) => r.request && (() => r.request!.final(snapshot)));
  }

  samples(samples: SystemSample[]): void {
    this.#call("system.samples", (r) => r.system && (() => r.system!.samples(samples)), true);
  }

  /**
   * Stops every recorder (they flush) and waits for all calls, each bounded by the timeout.
   * When `cut` aborts, it waits no longer (the user asked to end now): a recorder still
   * lingering or exporting is reported as cut short.
   */
  async stop(reason: StopReason, cut?: AbortSignal): Promise<void> {
    this.#call(
      "output.stop",
      (r) => r.output && (() => r.output!.stop(reason)),
      false,
      (r) => Math.max(this.#timeoutMs, r.output?.stopTimeoutMs ?? 0),
    );
    const pending = new Set(this.#members);
    const all = Promise.all(this.#members.map((m) => m.chain.then(() => pending.delete(m))));
    const cutNow = await settleWithin(all, Infinity, () => new Error("unreachable"), cut);
    if (cutNow === ABORTED) {
      for (const member of pending) {
        const line = `recorder "${member.id}" was cut short by a signal in output.stop`;
        this.problems.push(line);
        this.#log.warn("{line}", { line });
      }
    }
    for (const member of this.#members) {
      try {
        for (const line of member.recorder.problems?.() ?? []) {
          this.problems.push(`recorder "${member.id}": ${line}`);
        }
      } catch (error) {
        this.#report(member.id, "problems", `failed (${describeError(error)})`);
      }
    }
  }
}
