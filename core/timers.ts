// Timers that cannot go wrong: delays longer than a timer holds, and waits that give up on time
// or when the user asks to stop.

/** The longest delay one `setTimeout` holds: 2^31 - 1 ms (24d 20h 31m); a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `fn` after `ms`, however long: a delay past {@link MAX_TIMER_MS} is split into several
 * timers. Returns a function that cancels it. `unref` keeps the timer from holding the process.
 */
export function setLongTimeout(fn: () => void, ms: number, unref = false): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (remainingMs: number) => {
    const stepMs = Math.min(remainingMs, MAX_TIMER_MS);
    const next = setTimeout(() => {
      if (remainingMs > stepMs) arm(remainingMs - stepMs);
      else fn();
    }, Math.max(0, stepMs));
    if (unref) Deno.unrefTimer(next);
    timer = next;
  };
  arm(ms);
  return () => clearTimeout(timer);
}

/** What {@link settleWithin} resolves to when its signal aborted first. */
export const ABORTED: unique symbol = Symbol("aborted");

/**
 * Waits for `promise` at most `timeoutMs` (Infinity: no limit); past that, rejects with
 * `onTimeout()`. When `signal`
 * aborts first, resolves to {@link ABORTED} at once (the promise is left to settle unobserved).
 */
export function settleWithin<T>(
  promise: Promise<T>,
  timeoutMs: number,
  onTimeout: () => Error,
  signal?: AbortSignal,
): Promise<T | typeof ABORTED> {
  if (signal?.aborted) {
    promise.catch(() => {});
    return Promise.resolve(ABORTED);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => done(() => resolve(ABORTED));
    const cancel = Number.isFinite(timeoutMs)
      ? setLongTimeout(() => done(() => reject(onTimeout())), timeoutMs)
      : () => {};
    let settled = false;
    function done(settle: () => void) {
      if (settled) return;
      settled = true;
      cancel();
      signal?.removeEventListener("abort", onAbort);
      settle();
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => done(() => resolve(value)),
      (error) => done(() => reject(error)),
    );
  });
}
