// A worker process's WebSocket to its coordinator. Deno's own WebSocket, given the token in the
// handshake and, for a private CA, an HTTP client that trusts it (`client`, Deno 2.5+). Deno's
// WebSocket cannot skip certificate checks in the process (only the runtime flag
// --unsafely-ignore-certificate-errors does), so `--insecure` connects through npm:ws over
// node:tls instead, as the h1 engine does for targets; it is loaded only then.
import { formatDuration } from "../duration.ts";
import { RunError } from "../errors.ts";

/** The parts of a WebSocket a worker process uses; Deno's and npm:ws's both have them. */
export interface ClientSocket {
  readonly readyState: number;
  send(text: string): void;
  close(code?: number, reason?: string): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: { message?: string }) => void) | null;
}

/** How to reach the coordinator. */
export interface ClientOptions {
  /** The run's token, sent as `Authorization: Bearer <token>` in the handshake. */
  token: string;
  /** PEM text of CA certificates to trust besides the built-in ones. */
  caCerts?: string[];
  /** Do not check the coordinator's certificate. */
  insecure?: boolean;
}

/** Why a connection failed, as a worker can act on it. */
export type ConnectFailure =
  /** Nothing answers yet (refused, no such name): worth trying again. */
  | "unreachable"
  /** The coordinator refused the token (HTTP 401). */
  | "token"
  /** The coordinator's certificate is not trusted. */
  | "certificate"
  | "other";

/** A connection that did not open: what kind of failure, and the runtime's words. */
export class ConnectError extends Error {
  constructor(readonly failure: ConnectFailure, message: string) {
    super(message);
    this.name = "ConnectError";
  }
}

/** What kind of failure a runtime's error text describes. */
export function classifyFailure(text: string): ConnectFailure {
  if (/\b401\b/.test(text)) return "token";
  if (/certificate|self[- ]signed|UnknownIssuer|CERT_|unable to verify/i.test(text)) {
    return "certificate";
  }
  if (/tcp connect|dns error|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|connection refused/i.test(text)) {
    return "unreachable";
  }
  return "other";
}

/** Opens a WebSocket to `url`; resolves once it is open, else rejects with a {@link ConnectError}. */
export async function openClientSocket(url: string, options: ClientOptions): Promise<ClientSocket> {
  // No token, no header: the coordinator refuses the worker and says so in its log.
  const headers: Record<string, string> = options.token
    ? { authorization: `Bearer ${options.token}` }
    : {};
  let socket: ClientSocket;
  if (options.insecure) {
    const { default: NodeWebSocket } = await import("npm:ws@8.18.3");
    socket = new NodeWebSocket(url, { headers, rejectUnauthorized: false }) as ClientSocket;
  } else {
    const client = options.caCerts?.length
      ? Deno.createHttpClient({ caCerts: options.caCerts })
      : undefined;
    socket = new WebSocket(url, { headers, client }) as ClientSocket;
  }
  return await new Promise<ClientSocket>((resolve, reject) => {
    let settled = false;
    const fail = (text: string) => {
      if (settled) return;
      settled = true;
      const words = text.replace(/^NetworkError: failed to connect to WebSocket: /, "");
      reject(new ConnectError(classifyFailure(words), words));
    };
    socket.onerror = (event) => fail(event.message ?? "the connection failed");
    socket.onclose = (event) => fail(`the connection closed (${event.code} ${event.reason})`);
    (socket as unknown as { onopen: () => void }).onopen = () => {
      if (settled) return;
      settled = true;
      socket.onerror = null;
      socket.onclose = null;
      resolve(socket);
    };
  });
}

/** How to keep trying while the coordinator cannot be reached. */
export interface ConnectRetry {
  /** Give up after this long, in ms. */
  timeoutMs: number;
  /** Said once, when the first try finds nobody. */
  say(line: string): void;
  /** Aborting it stops trying: the result is then null. */
  signal?: AbortSignal;
  /** Opens one socket (tests use a fake). */
  open?: typeof openClientSocket;
}

const RETRY_MS = 1000;

/**
 * Connects to the coordinator at `url`, trying again while nothing answers there (a coordinator
 * that is still starting, a name not yet in DNS), for up to `retry.timeoutMs`. A refused token or
 * an untrusted certificate fails at once. Throws a {@link RunError} saying what to do.
 */
export async function connectToCoordinator(
  url: string,
  options: ClientOptions,
  retry: ConnectRetry,
): Promise<ClientSocket | null> {
  const open = retry.open ?? openClientSocket;
  const deadlineMs = performance.now() + retry.timeoutMs;
  let waiting = false;
  while (!retry.signal?.aborted) {
    try {
      return await open(url, options);
    } catch (error) {
      if (!(error instanceof ConnectError)) throw error;
      const why = error.message;
      if (error.failure === "token") {
        throw new RunError(
          `Cannot join the coordinator at ${url}: it refused ${
            options.token ? "this worker's token" : "a worker without a token"
          } (HTTP 401); give the coordinator's token with --token or STAMPEDE_TOKEN`,
        );
      }
      if (error.failure === "certificate") {
        throw new RunError(
          `Cannot join the coordinator at ${url}: its TLS certificate is not trusted (${why}); give its CA with --tls-ca FILE (or DENO_CERT=FILE), or skip the check with --insecure`,
        );
      }
      if (error.failure !== "unreachable") {
        throw new RunError(`Cannot join the coordinator at ${url}: ${why}`);
      }
      if (performance.now() + RETRY_MS > deadlineMs) {
        throw new RunError(
          `Cannot join the coordinator at ${url}: nothing answered within ${
            formatDuration(retry.timeoutMs)
          } (${why}); is it started, listening on an address this machine reaches (--listen)?`,
        );
      }
      if (!waiting) retry.say(`waiting for the coordinator at ${url} (${why})`);
      waiting = true;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, RETRY_MS);
        retry.signal?.addEventListener("abort", done, { once: true });
        function done() {
          clearTimeout(timer);
          retry.signal?.removeEventListener("abort", done);
          resolve();
        }
      });
    }
  }
  return null;
}
