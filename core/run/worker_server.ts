// Where worker processes (`stampede worker --connect`) join a coordinator: a WebSocket server
// (TLS when given a certificate) that lets in only a worker with the run's token, checks the
// protocol version in its hello, names it uniquely, and waits until the expected number joined.
// It sends every joined process a heartbeat and gives up on one silent past the tolerance.
import { createHash, timingSafeEqual } from "node:crypto";
import { getLogger } from "npm:@logtape/logtape@2.4.2";
import { formatDuration } from "../duration.ts";
import { describeError, RunError, UsageError } from "../errors.ts";
import { ABORTED, settleWithin } from "../timers.ts";
import { VERSION } from "../version.ts";
import { type FromHost, PROTOCOL_VERSION } from "./protocol.ts";
import { RemoteHost } from "./remote_host.ts";

/** How long the coordinator waits at the end for each process to answer its close. */
const CLOSE_HANDSHAKE_MS = 2_000;
/** How long a connection may take to say hello. */
const HELLO_TIMEOUT_MS = 10_000;
/** The most load workers one process may bring (as `--workers` allows locally). */
const MAX_HOST_WORKERS = 1024;

/** Settings of a {@link WorkerServer}. */
export interface WorkerServerOptions {
  hostname: string;
  port: number;
  /** The secret every worker must present (`Authorization: Bearer <token>`). */
  token: string;
  /** PEM certificate chain and key: workers connect with wss://. */
  tls?: { cert: string; key: string };
  /** Worker processes the run waits for. */
  expectWorkers: number;
  /** A process silent for longer than this is lost, in ms; heartbeats go at a fifth of it. */
  toleranceMs: number;
  /** Lines for the person at the coordinator: who joined, who left, how many to go. */
  say(line: string): void;
}

/** How often heartbeats go each way for a tolerance of `toleranceMs`: 1 s, or more often. */
export function heartbeatIntervalMs(toleranceMs: number): number {
  return Math.max(50, Math.min(1000, Math.floor(toleranceMs / 5)));
}

/** Whether two tokens are the same, in time that does not depend on where they differ. */
function sameToken(given: string, expected: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** A name fit for a record's source: letters, digits, `.`, `_`, `-`; never a local source's. */
function cleanName(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 63) || "worker-process";
  return /^(coordinator|worker-\d+)$/.test(clean) ? `host-${clean}` : clean;
}

function addressOf(addr: Deno.Addr): string {
  if (addr.transport !== "tcp" && addr.transport !== "udp") return addr.transport;
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

/** The coordinator's listener for worker processes, from `listen` to `close`. */
export class WorkerServer {
  readonly #options: WorkerServerOptions;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #log = getLogger(["stampede", "workers"]);
  readonly #joined: RemoteHost[] = [];
  readonly #names = new Map<string, number>();
  readonly #heartbeat: ReturnType<typeof setInterval>;
  #state: "waiting" | "started" | "closed" = "waiting";
  #allJoined: (() => void) | null = null;

  private constructor(options: WorkerServerOptions) {
    this.#options = options;
    try {
      this.#server = Deno.serve({
        hostname: options.hostname,
        port: options.port,
        ...options.tls,
        onListen: () => {},
      }, (request, info) => this.#handle(request, info));
    } catch (cause) {
      throw new UsageError(
        `Cannot listen for workers on ${options.hostname}:${options.port}: ${describeError(cause)}`,
        { cause },
      );
    }
    this.#heartbeat = setInterval(() => {
      for (const host of this.#joined) if (!host.gone) host.beat(options.toleranceMs);
    }, heartbeatIntervalMs(options.toleranceMs));
  }

  /** Listens on `hostname:port`; a port in use or a bad certificate is a {@link UsageError}. */
  static listen(options: WorkerServerOptions): WorkerServer {
    return new WorkerServer(options);
  }

  /** The URL workers connect to (with the port the system chose, for port 0). */
  get url(): string {
    const { hostname, port } = this.#server.addr;
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    return `${this.#options.tls ? "wss" : "ws"}://${host}:${port}`;
  }

  /**
   * Waits until every expected worker process joined: their hosts in the order they joined, or
   * null when `signal` aborted first. Past `timeoutMs`, throws a {@link RunError} saying who came.
   * Joining closes once this returns: a process that comes later is refused.
   */
  async waitForWorkers(timeoutMs: number, signal?: AbortSignal): Promise<RemoteHost[] | null> {
    const expected = this.#options.expectWorkers;
    this.#options.say(
      `waiting for ${expected} worker${expected === 1 ? "" : "s"} on ${this.url} for up to ${
        formatDuration(timeoutMs)
      } (stampede worker --connect ${this.url} with the run's token)`,
    );
    const joined = new Promise<void>((resolve) => {
      this.#allJoined = resolve;
      this.#checkAllJoined();
    });
    try {
      const outcome = await settleWithin(joined, timeoutMs, () => {
        const names = this.#joined.map((h) => h.name).join(", ");
        return new RunError(
          `Cannot start the run: ${this.#joined.length} of ${expected} workers joined within ${
            formatDuration(timeoutMs)
          }${
            names ? ` (${names})` : ""
          }; start more with stampede worker --connect ${this.url}, or lower --expect-workers`,
        );
      }, signal);
      if (outcome === ABORTED) return null;
    } finally {
      this.#allJoined = null;
    }
    this.#state = "started";
    const loadWorkers = this.#joined.reduce((n, h) => n + h.workers, 0);
    this.#options.say(
      `${expected} worker${
        expected === 1 ? "" : "s"
      } joined with ${loadWorkers} load workers; starting`,
    );
    return [...this.#joined];
  }

  /**
   * Stops listening and ends every process still connected: normally once the run started (it
   * is over), else refusing them: the run did not start.
   */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    const started = this.#state === "started";
    this.#state = "closed";
    clearInterval(this.#heartbeat);
    for (const host of this.#joined) {
      if (started) host.end();
      else host.refuse("the run did not start (the coordinator stopped waiting for workers)");
    }
    // Each process hears the close before this one exits (else it sees a dropped connection and
    // says the run failed); a process that does not answer is not waited for past the bound.
    await settleWithin(
      Promise.all(this.#joined.map((host) => host.closed())),
      CLOSE_HANDSHAKE_MS,
      () => new Error("close handshake timed out"),
    ).catch(() => {});
    await this.#server.shutdown();
  }

  #handle(request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Response {
    const from = addressOf(info.remoteAddr);
    const auth = request.headers.get("authorization");
    const token = auth?.match(/^Bearer (.+)$/)?.[1];
    if (token === undefined || !sameToken(token, this.#options.token)) {
      this.#log.warn("Refused a connection from {from}: {why}", {
        from,
        why: token === undefined ? "it brought no token" : "its token is wrong",
      });
      // Nothing of the run (not even that one is running) is said without the token.
      return new Response("Cannot join: the token is missing or wrong\n", {
        status: 401,
        headers: { "www-authenticate": "Bearer" },
      });
    }
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response(
        `This is a Stampede coordinator: join it with stampede worker --connect ${this.url}\n`,
        { status: 426, headers: { upgrade: "websocket" } },
      );
    }
    // Liveness is ours to judge (heartbeats, with the run's tolerance), not the socket's pings.
    const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
    this.#greet(socket, from);
    return response;
  }

  /** Reads a new connection's hello; welcomes the process or refuses it with a reason. */
  #greet(socket: WebSocket, from: string): void {
    let host: RemoteHost | null = null;
    const refuse = (name: string, reason: string) => {
      this.#log.warn("Refused worker {name} from {from}: {reason}", { name, from, reason });
      new RemoteHost(socket, { name, workers: 0, address: from }).refuse(reason);
    };
    const helloTimer = setTimeout(
      () => refuse("(no hello)", "it sent no hello in time"),
      HELLO_TIMEOUT_MS,
    );
    socket.onmessage = (event) => {
      let message: FromHost;
      try {
        message = JSON.parse(String(event.data));
      } catch {
        if (host) return host.lose("it sent a message that is not JSON");
        clearTimeout(helloTimer);
        return refuse("(unknown)", "its first message is not JSON");
      }
      if (host) return host.receive(message);
      clearTimeout(helloTimer);
      host = this.#join(socket, from, message, refuse);
    };
    socket.onclose = (event) => {
      clearTimeout(helloTimer);
      host?.lose(`its connection closed${event.reason ? ` (${event.reason})` : ""}`);
    };
    socket.onerror = (event) => {
      event.preventDefault?.();
    };
  }

  #join(
    socket: WebSocket,
    from: string,
    hello: FromHost,
    refuse: (name: string, reason: string) => void,
  ): RemoteHost | null {
    if (hello.type !== "hello") {
      refuse("(unknown)", `its first message is "${hello.type}", not hello`);
      return null;
    }
    const name = cleanName(String(hello.name));
    if (hello.protocol !== PROTOCOL_VERSION) {
      refuse(
        name,
        `it speaks protocol ${hello.protocol} (stampede ${hello.version}), this coordinator protocol ${PROTOCOL_VERSION} (stampede ${VERSION}); run the same stampede on both`,
      );
      return null;
    }
    const workers = hello.workers;
    if (!Number.isInteger(workers) || workers < 1 || workers > MAX_HOST_WORKERS) {
      refuse(name, `it brings ${workers} load workers; give it 1 to ${MAX_HOST_WORKERS}`);
      return null;
    }
    if (this.#state !== "waiting") {
      refuse(name, "the run has already started; a worker joins before the start");
      return null;
    }
    const expected = this.#options.expectWorkers;
    if (this.#joined.length >= expected) {
      refuse(name, `the run already has its ${expected} workers (--expect-workers)`);
      return null;
    }
    const seen = (this.#names.get(name) ?? 0) + 1;
    this.#names.set(name, seen);
    const unique = seen === 1 ? name : `${name}#${seen}`;
    const host = new RemoteHost(socket, { name: unique, workers, address: from });
    this.#joined.push(host);
    // Until the run starts, a process that leaves just frees its place.
    host.attach({
      message: () => {},
      gone: (why) => {
        if (this.#state !== "waiting") return;
        this.#joined.splice(this.#joined.indexOf(host), 1);
        this.#options.say(
          `worker ${host.name} left before the start (${why}); ${this.#waitingFor()}`,
        );
      },
    });
    const toleranceMs = this.#options.toleranceMs;
    host.send({
      type: "welcome",
      protocol: PROTOCOL_VERSION,
      name: unique,
      heartbeatMs: heartbeatIntervalMs(toleranceMs),
      toleranceMs,
    });
    this.#options.say(
      `worker ${unique} joined from ${from} with ${workers} load worker${
        workers === 1 ? "" : "s"
      }; ${this.#waitingFor()}`,
    );
    this.#checkAllJoined();
    return host;
  }

  #waitingFor(): string {
    const left = this.#options.expectWorkers - this.#joined.length;
    return left > 0 ? `waiting for ${left} more` : "all joined";
  }

  #checkAllJoined(): void {
    if (this.#joined.length >= this.#options.expectWorkers) this.#allJoined?.();
  }
}
