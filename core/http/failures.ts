// One mapping from what went wrong in an exchange to the short texts failures are grouped by, for
// every engine: a refused connection, a bad certificate or a timeout reads the same on h1 as on
// fetch, and never carries a URL (so failures of many URLs group into one row).
import { describeError } from "../errors.ts";
import { FailureText, HttpFailure } from "./engine.ts";

/** A response an engine could not read (h1's parser throws a subclass of it). */
export class MalformedResponse extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MalformedResponse";
  }
}

/** What rustls says when the TLS handshake itself fails (not the certificate). */
const TLS_HANDSHAKE = /received corrupt message|received fatal alert|handshake/i;
/** Deno's fetch says "fetch failed" and keeps what happened in the cause chain: this deep. */
const MAX_CAUSES = 4;

/**
 * The failure `error` stands for, as an {@link HttpFailure} (returned as is when it is one).
 * `timeoutMs` is the request's timeout, for the timeout's text.
 */
export function failureOf(error: unknown, timeoutMs: number): HttpFailure {
  if (error instanceof HttpFailure) return error;
  return new HttpFailure(failureTextOf(error, timeoutMs), { cause: error });
}

function failureTextOf(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return FailureText.timeout(timeoutMs);
  }
  if (error instanceof MalformedResponse) return FailureText.malformed;
  const typed = typedFailureText(error);
  if (typed !== null) return typed;
  const text = textWithCauses(error);
  if (/connection refused/i.test(text)) return FailureText.refused;
  if (/connection reset|reset by peer|broken pipe/i.test(text)) return FailureText.reset;
  // Before DNS: a certificate's error can name a DnsName.
  if (/certificate/i.test(text)) return FailureText.tls;
  if (TLS_HANDSHAKE.test(text)) return FailureText.handshake;
  if (/dns|failed to lookup|name or service not known/i.test(text)) return FailureText.dns;
  if (/invalid HTTP|invalid content-length|invalid chunk|parse error|invalid status/i.test(text)) {
    return FailureText.malformed;
  }
  if (
    /connection closed before message completed|unexpected eof|incomplete message|error reading a body/i
      .test(text)
  ) {
    return FailureText.closed;
  }
  return text.replace(/ for url \([^)]*\)/, "").replace(/https?:\/\/\S+/g, "<url>");
}

/** Deno's socket errors (and node:tls's codes) by their type rather than their wording. */
function typedFailureText(error: unknown): string | null {
  const code = (error as { code?: string })?.code;
  if (error instanceof Deno.errors.ConnectionRefused || code === "ECONNREFUSED") {
    return FailureText.refused;
  }
  if (
    error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionAborted || code === "ECONNRESET" || code === "EPIPE"
  ) {
    return FailureText.reset;
  }
  if (error instanceof Deno.errors.UnexpectedEof) return FailureText.closed;
  return null;
}

function textWithCauses(error: unknown): string {
  let text = describeError(error);
  for (let cause = (error as Error)?.cause, depth = 0; cause && depth < MAX_CAUSES; depth++) {
    text += ` (${describeError(cause)})`;
    cause = (cause as Error).cause;
  }
  return text;
}
