// `--fake-socket` of tools/layered_path.ts: connections in memory in place of Deno.connect's, to
// measure the JavaScript of the request path alone.

/**
 * With `--fake-socket`: `Deno.connect` returns a connection in memory that answers every write
 * with nginx's response, so a layer's JavaScript is measured without the kernel's share (about
 * two thirds of the floor's time) and its noise. Answers are delivered in batches, as a real
 * poll delivers them; the measure is CPU per request (the process idles while timers wait).
 */
export function installFakeSockets(): void {
  const response = new TextEncoder().encode(
    "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Thu, 29 Nov 2026 00:00:00 GMT\r\n" +
      "Content-Type: text/plain\r\nContent-Length: 13\r\nConnection: keep-alive\r\n\r\n" +
      "hello, world\n",
  );
  let batch: FakeConn[] = [];
  let batches = 0;
  const deliver = () => {
    const now = batch;
    batch = [];
    for (const conn of now) conn.answer();
  };
  class FakeConn {
    #queued = 0;
    #waiting: { p: Uint8Array; resolve: (n: number | null) => void } | null = null;
    #closed = false;
    setNoDelay() {}
    ref() {}
    unref() {}
    close() {
      this.#closed = true;
      const waiting = this.#waiting;
      this.#waiting = null;
      waiting?.resolve(null);
    }
    answer() {
      const waiting = this.#waiting;
      if (waiting === null) {
        this.#queued++;
        return;
      }
      this.#waiting = null;
      waiting.p.set(response);
      waiting.resolve(response.length);
    }
    write(p: Uint8Array): Promise<number> {
      // Answers come in a microtask; one batch in 64 waits for a timer, so timers get to run.
      if (batch.length === 0) {
        if (++batches % 64 === 0) setTimeout(deliver, 0);
        else queueMicrotask(deliver);
      }
      batch.push(this);
      return Promise.resolve(p.length);
    }
    read(p: Uint8Array): Promise<number | null> {
      if (this.#queued > 0) {
        this.#queued--;
        p.set(response);
        return Promise.resolve(response.length);
      }
      if (this.#closed) return Promise.resolve(null);
      return new Promise((resolve) => this.#waiting = { p, resolve });
    }
  }
  Object.defineProperty(Deno, "connect", {
    value: () => Promise.resolve(new FakeConn()),
    configurable: true,
    writable: true,
  });
}
