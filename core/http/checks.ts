// A request's `check`: run on its response after the exchange was timed, it can turn a success
// into a failure with a text of its own (the latency kept); its named form also counts each
// check's passes and fails, as `ctx.check` does.
import { describeError } from "../errors.ts";
import type { CheckOutcome, HttpResponse, ResponseCheck } from "./types.ts";

/** The failure text of a check that returned false. */
export const CHECK_FAILED = "check failed";

/** What one check said: null when it passed, else the failure text. */
async function outcomeOf(check: ResponseCheck, response: HttpResponse): Promise<string | null> {
  let outcome: CheckOutcome;
  try {
    outcome = await check(response);
  } catch (error) {
    return `check threw: ${describeError(error)}`;
  }
  if (typeof outcome === "string") return outcome === "" ? CHECK_FAILED : outcome;
  return outcome === undefined || outcome ? null : CHECK_FAILED;
}

/**
 * Runs a request's check on its response. Returns the failure text of the first check that
 * failed, or null when all passed. Every named check runs (each is counted through `count`),
 * whatever the ones before it said.
 */
export async function runResponseCheck(
  check: ResponseCheck | Readonly<Record<string, ResponseCheck>>,
  response: HttpResponse,
  count: (name: string, passed: boolean) => void,
): Promise<string | null> {
  if (typeof check === "function") return await outcomeOf(check, response);
  let failure: string | null = null;
  for (const [name, one] of Object.entries(check)) {
    const text = await outcomeOf(one, response);
    count(name, text === null);
    if (text !== null && failure === null) {
      failure = text === CHECK_FAILED ? `check "${name}" failed` : text;
    }
  }
  return failure;
}
