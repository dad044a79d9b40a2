// A keep-alive HTTP/1.1 server that closes idle connections the way Node, Go and proxies do on an
// idle timeout, without `Connection: close`, racing the client's next request: connection i
// answers `answered(i)` requests, then closes as the next one arrives, unanswered. It counts what it
// answered and what it dropped by method, and keeps every request body, so a test can reconcile
// what a client reported with what reached the server, and see whether a POST came twice.

/** What the server saw. */
export interface ClosingServer {
  url: string;
  /** Requests answered, by method. */
  answered: Map<string, number>;
  /** Requests that arrived on a connection the server then closed unanswered, by method. */
  dropped: Map<string, number>;
  /** The bodies of every request that arrived (answered or dropped), in order. */
  bodies: string[];
  /** Connections accepted. */
  connections(): number;
  shutdown(): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const HEAD_END = encoder.encode("\r\n\r\n");

function indexOf(buf: Uint8Array, end: number, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= end; i++) {
    for (let j = 0; j < needle.length; j++) if (buf[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** What the server saw, as each connection adds to it. */
type Seen = Pick<ClosingServer, "answered" | "dropped" | "bodies">;

function count(map: Map<string, number>, method: string): void {
  map.set(method, (map.get(method) ?? 0) + 1);
}

/** A connection's bytes received and not yet taken as a request. */
interface Received {
  buf: Uint8Array;
  end: number;
}

/** Reads the next request of a connection: its method and body; null when the client closed. */
async function readRequest(
  conn: Deno.Conn,
  received: Received,
): Promise<{ method: string; body: string } | null> {
  let headEnd = indexOf(received.buf, received.end, HEAD_END);
  while (headEnd < 0) {
    if (received.end === received.buf.length) {
      const bigger = new Uint8Array(received.buf.length * 2);
      bigger.set(received.buf);
      received.buf = bigger;
    }
    const n = await conn.read(received.buf.subarray(received.end));
    if (n === null) return null;
    received.end += n;
    headEnd = indexOf(received.buf, received.end, HEAD_END);
  }
  const head = decoder.decode(received.buf.subarray(0, headEnd));
  const method = head.slice(0, head.indexOf(" "));
  const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? "0");
  const total = headEnd + 4 + length;
  while (received.end < total) {
    const n = await conn.read(received.buf.subarray(received.end));
    if (n === null) return null;
    received.end += n;
  }
  const body = decoder.decode(received.buf.subarray(headEnd + 4, total));
  received.buf.copyWithin(0, total, received.end);
  received.end -= total;
  return { method, body };
}

/** Serves one connection: answers `answers` requests, then closes as the next one arrives. */
async function serve(
  conn: Deno.Conn,
  answers: number,
  seen: Seen,
  conns: Set<Deno.Conn>,
): Promise<void> {
  const received = { buf: new Uint8Array(64 * 1024), end: 0 };
  let served = 0;
  try {
    while (true) {
      const request = await readRequest(conn, received);
      if (request === null) return;
      seen.bodies.push(request.body);
      if (served === answers) {
        count(seen.dropped, request.method);
        return; // closed in finally, unanswered
      }
      served++;
      count(seen.answered, request.method);
      await conn.write(encoder.encode("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
    }
  } catch {
    // the client went away
  } finally {
    conns.delete(conn);
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

/** Starts the server on 127.0.0.1 (port 0). */
export function startClosingServer(answered: (connection: number) => number): ClosingServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const server = {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    answered: new Map<string, number>(),
    dropped: new Map<string, number>(),
    bodies: [] as string[],
  };
  const conns = new Set<Deno.Conn>();
  let accepted = 0;
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        conns.add(conn);
        serve(conn, answered(accepted++), server, conns);
      }
    } catch { /* closed */ }
  })();

  return {
    ...server,
    connections: () => accepted,
    async shutdown() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
      await accepting;
    },
  };
}
