// Byte streams the h1 engine speaks HTTP/1.1 over: a Deno TCP or TLS connection, or, when
// certificate checks are off (`--insecure`), a node:tls socket (Deno's own TLS always checks).
import { connect as connectNodeTls, type TLSSocket } from "node:tls";

/** What the h1 engine needs of a connection: Deno.Conn's read/write/close. */
export interface Transport {
  /** Reads into `p`; resolves with the byte count, or null at the end of the stream. */
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
}

/** Where and how to connect. */
export interface TransportTarget {
  hostname: string;
  port: number;
  tls: boolean;
  insecure: boolean;
  signal: AbortSignal;
}

/** Opens a connection; TLS connections have finished their handshake (ALPN `http/1.1`). */
export async function openTransport(target: TransportTarget): Promise<Transport> {
  const { hostname, port, signal } = target;
  if (!target.tls) {
    const conn = await Deno.connect({ hostname, port, signal });
    conn.setNoDelay(true);
    return conn;
  }
  if (target.insecure) return await openNodeTls(hostname, port, signal);
  const conn = await abortable(
    Deno.connectTls({ hostname, port, alpnProtocols: ["http/1.1"] }),
    signal,
  );
  const onAbort = () => conn.close();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    await conn.handshake();
  } catch (error) {
    try {
      conn.close();
    } catch { /* already closed */ }
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  return conn;
}

/** Rejects when `signal` aborts first (Deno.connectTls takes no signal); a late conn is closed. */
function abortable(connecting: Promise<Deno.TlsConn>, signal: AbortSignal): Promise<Deno.TlsConn> {
  if (signal.aborted) {
    connecting.then((conn) => conn.close(), () => {});
    return Promise.reject(signal.reason);
  }
  return new Promise((resolve, reject) => {
    let settled = false;
    const onAbort = () => {
      settled = true;
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    connecting.then(
      (conn) => {
        signal.removeEventListener("abort", onAbort);
        if (settled) conn.close();
        else resolve(conn);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        if (!settled) reject(error);
      },
    );
  });
}

function openNodeTls(hostname: string, port: number, signal: AbortSignal): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket = connectNodeTls({
      host: hostname,
      port,
      servername: /^[\d.]+$|:/.test(hostname) ? undefined : hostname,
      rejectUnauthorized: false,
      ALPNProtocols: ["http/1.1"],
    });
    const onAbort = () => {
      socket.destroy();
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("secureConnect", () => {
      signal.removeEventListener("abort", onAbort);
      socket.removeListener("error", onError);
      resolve(new NodeTlsTransport(socket));
    });
    const onError = (error: Error) => {
      signal.removeEventListener("abort", onAbort);
      reject(error);
    };
    socket.once("error", onError);
  });
}

/** A node:tls socket as a pull-based {@link Transport}. */
class NodeTlsTransport implements Transport {
  readonly #socket: TLSSocket;
  readonly #chunks: Uint8Array[] = [];
  #ended = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;

  constructor(socket: TLSSocket) {
    this.#socket = socket;
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#notify();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("error", (error: Error) => {
      this.#error = error;
      this.#notify();
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    const chunk = this.#chunks[0];
    const n = Math.min(chunk.length, p.length);
    p.set(chunk.subarray(0, n));
    if (n === chunk.length) this.#chunks.shift();
    else this.#chunks[0] = chunk.subarray(n);
    return n;
  }

  write(p: Uint8Array): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#socket.write(p, (error) => error ? reject(error) : resolve(p.length));
    });
  }

  close(): void {
    this.#error ??= new Deno.errors.BadResource("the connection was closed");
    this.#socket.destroy();
    this.#notify();
  }
}
