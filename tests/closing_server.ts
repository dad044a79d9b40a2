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
  const count = (map: Map<string, number>, method: string) =>
    map.set(method, (map.get(method) ?? 0) + 1);

  async function serve(conn: Deno.Conn, answers: number): Promise<void> {
    let buf = new Uint8Array(64 * 1024);
    let end = 0;
    let served = 0;
    try {
      while (true) {
        let headEnd = indexOf(buf, end, HEAD_END);
        while (headEnd < 0) {
          if (end === buf.length) {
            const bigger = new Uint8Array(buf.length * 2);
            bigger.set(buf);
            buf = bigger;
          }
          const n = await conn.read(buf.subarray(end));
          if (n === null) return;
          end += n;
          headEnd = indexOf(buf, end, HEAD_END);
        }
        const head = decoder.decode(buf.subarray(0, headEnd));
        const method = head.slice(0, head.indexOf(" "));
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? "0");
        const total = headEnd + 4 + length;
        while (end < total) {
          const n = await conn.read(buf.subarray(end));
          if (n === null) return;
          end += n;
        }
        server.bodies.push(decoder.decode(buf.subarray(headEnd + 4, total)));
        buf.copyWithin(0, total, end);
        end -= total;
        if (served === answers) {
          count(server.dropped, method);
          return; // closed in finally, unanswered
        }
        served++;
        count(server.answered, method);
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

  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        conns.add(conn);
        serve(conn, answered(accepted++));
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
