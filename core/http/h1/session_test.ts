import assert from "node:assert/strict";
import {
  AS_RESPONSE,
  type EngineRequest,
  FailureText,
  type HeadSlot,
  HttpFailure,
} from "../engine.ts";
import { Deadlines } from "./deadlines.ts";
import { BodySlab } from "./response.ts";
import { H1Session } from "./session.ts";
import type { Transport, TransportTarget } from "./transport.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A connection in memory: what the session writes is handed to `answer`, whose reply (if any) is
 * delivered in `pieces` reads. `hangUp()` ends the stream as a server closing it would.
 */
class FakeTransport implements Transport {
  readonly written: string[] = [];
  closed = false;
  #incoming: Uint8Array[] = [];
  #ended = false;
  #wake: (() => void) | null = null;

  constructor(readonly answer: (request: string, n: number) => string[] | null) {}

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#incoming.length === 0) {
      if (this.closed) throw new Deno.errors.BadResource("closed");
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    const piece = this.#incoming[0];
    const n = Math.min(piece.length, p.length);
    p.set(piece.subarray(0, n));
    if (n === piece.length) this.#incoming.shift();
    else this.#incoming[0] = piece.subarray(n);
    return n;
  }

  write(p: Uint8Array): Promise<number> {
    const request = decoder.decode(p);
    this.written.push(request);
    const reply = this.answer(request, this.written.length);
    if (reply !== null) {
      // Each piece lands in a read of its own, a macrotask apart.
      reply.reduce(
        (after, piece) =>
          after.then(() => new Promise((resolve) => setTimeout(resolve, 1))).then(() => {
            this.#incoming.push(encoder.encode(piece));
            this.#notify();
          }),
        Promise.resolve(),
      );
    }
    return Promise.resolve(p.length);
  }

  hangUp(): void {
    this.#ended = true;
    this.#notify();
  }

  close(): void {
    this.closed = true;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

/** A session whose connections are {@link FakeTransport}s answering with `answer`. */
function fakeSession(answer: (request: string, n: number) => string[] | null) {
  const opened: FakeTransport[] = [];
  const targets: TransportTarget[] = [];
  const abort = new AbortController();
  const session = new H1Session(abort.signal, {
    insecure: false,
    slab: new BodySlab(),
    deadlines: new Deadlines(),
    open: (target) => {
      targets.push(target);
      const transport = new FakeTransport(answer);
      opened.push(transport);
      return Promise.resolve(transport);
    },
  });
  return { session, opened, targets, abort };
}

const url = new URL("http://example.test:8080/items?page=2");
/** One head slot per URL, as the client keeps them. */
const slots = new Map<string, HeadSlot>();

function get(overrides: Partial<EngineRequest> = {}): EngineRequest {
  const target = overrides.url ?? url;
  let headSlot = slots.get(target.href);
  if (headSlot === undefined) slots.set(target.href, headSlot = { head: null });
  return {
    method: "GET",
    url: target,
    headers: { "user-agent": "test" },
    body: null,
    headSlot,
    deadlineMs: performance.now() + 5_000,
    timeoutMs: 5_000,
    keepBody: true,
    retries: 0,
    trace: null,
    ...overrides,
  };
}

const ok = (body: string, extra = "") =>
  `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n${extra}\r\n${body}`;

Deno.test("a session writes the request head and reads the response; ten requests share one connection", async () => {
  const { session, opened, targets } = fakeSession((_, n) => [ok(`r${n}`)]);
  for (let i = 1; i <= 10; i++) {
    const res = await session.send(get(), AS_RESPONSE);
    assert.equal(res.status, 200);
    assert.equal(decoder.decode(res.body()!), `r${i}`);
  }
  session.close();
  assert.equal(opened.length, 1);
  assert.deepEqual(targets[0], {
    hostname: "example.test",
    port: 8080,
    tls: false,
    insecure: false,
    signal: targets[0].signal,
  });
  assert.equal(
    opened[0].written[0],
    "GET /items?page=2 HTTP/1.1\r\nhost: example.test:8080\r\naccept: */*\r\n" +
      "accept-language: *\r\naccept-encoding: gzip,br\r\nuser-agent: test\r\n\r\n",
  );
});

Deno.test("a response split over many reads, and a chunked one, are read whole", async () => {
  const { session } = fakeSession((request) =>
    request.startsWith("GET /chunked")
      ? ["HTTP/1.1 200 OK\r\ntransfer-", "encoding: chunked\r\n\r\n5\r\nhel", "lo\r\n0\r\n\r\n"]
      : ["HTTP/1.1 200 OK\r\ncontent-", "length: 11\r\n\r\nhello", " world"]
  );
  const split = await session.send(get(), AS_RESPONSE);
  assert.equal(decoder.decode(split.body()!), "hello world");
  const chunked = await session.send(
    get({ url: new URL("http://example.test:8080/chunked") }),
    AS_RESPONSE,
  );
  assert.equal(decoder.decode(chunked.body()!), "hello");
  assert.equal(chunked.bodyBytes, 5);
  session.close();
});

Deno.test("a connection the server closed while idle is not reused", async () => {
  const { session, opened } = fakeSession(() => [ok("fine")]);
  await session.send(get(), AS_RESPONSE);
  opened[0].hangUp();
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal((await session.send(get(), AS_RESPONSE)).status, 200);
  assert.equal(opened.length, 2);
  assert.equal(opened[0].closed, true);
  session.close();
});

Deno.test("a response with connection: close ends its connection", async () => {
  const { session, opened } = fakeSession(() => [ok("bye", "connection: close\r\n")]);
  await session.send(get(), AS_RESPONSE);
  await session.send(get(), AS_RESPONSE);
  assert.equal(opened.length, 2);
  assert.equal(opened[0].closed, true);
  session.close();
});

Deno.test("a request past its deadline fails as a timeout and its connection is closed", async () => {
  const { session, opened } = fakeSession(() => null);
  const startMs = performance.now();
  await assert.rejects(
    session.send(get({ deadlineMs: startMs + 30, timeoutMs: 30 }), AS_RESPONSE),
    (error: unknown) => error instanceof HttpFailure && error.text === FailureText.timeout(30),
  );
  assert.ok(performance.now() - startMs >= 29);
  assert.equal(opened[0].closed, true);
  session.close();
});

Deno.test("an end of stream before the response is complete fails as closed", async () => {
  let transport: FakeTransport | null = null;
  const { session, opened } = fakeSession(() => {
    setTimeout(() => transport!.hangUp(), 5);
    return ["HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial"];
  });
  const sent = session.send(get(), AS_RESPONSE);
  await Promise.resolve();
  transport = opened[0];
  await assert.rejects(
    sent,
    (error: unknown) => error instanceof HttpFailure && error.text === FailureText.closed,
  );
  session.close();
});

Deno.test("aborting the user closes its connections; the request fails with the stop's reason", async () => {
  const { session, opened, abort } = fakeSession(() => null);
  const sent = session.send(get(), AS_RESPONSE);
  await new Promise((resolve) => setTimeout(resolve, 5));
  const reason = new Error("stopped");
  abort.abort(reason);
  await assert.rejects(sent, (error: unknown) => error === reason);
  assert.equal(opened[0].closed, true);
});

/**
 * A server whose connections each answer `answered` requests, then close when the next one
 * arrives, unanswered (an idle timeout racing the request, without `Connection: close`).
 */
function closingAfter(answered: number) {
  let transport: FakeTransport | null = null;
  const fake = fakeSession((_, n) => {
    if (n <= answered) return [ok(`r${n}`)];
    const t = transport!;
    setTimeout(() => t.hangUp(), 1);
    return null;
  });
  return {
    ...fake,
    /** Points the closing at the latest connection. */
    track: () => transport = fake.opened[fake.opened.length - 1],
  };
}

Deno.test("a GET on a reused connection that closes unanswered is sent once more on a fresh one", async () => {
  const { session, opened, track } = closingAfter(1);
  const first = get();
  const sending = session.send(first, AS_RESPONSE);
  track();
  await sending;
  const second = get();
  const retried = session.send(second, AS_RESPONSE);
  await new Promise((resolve) => setTimeout(resolve, 0));
  track();
  assert.equal((await retried).status, 200);
  assert.equal(opened.length, 2);
  assert.equal(opened[0].closed, true);
  assert.deepEqual([first.retries, second.retries], [0, 1]);
  session.close();
});

Deno.test("a POST on a reused connection that closes unanswered fails and is never sent again", async () => {
  const { session, opened, track } = closingAfter(1);
  const sending = session.send(get(), AS_RESPONSE);
  track();
  await sending;
  const post = get({ method: "POST", headSlot: null, body: encoder.encode("{}") });
  await assert.rejects(
    session.send(post, AS_RESPONSE),
    (error: unknown) => error instanceof HttpFailure && error.text === FailureText.closed,
  );
  assert.equal(opened.length, 1, "no second connection");
  assert.equal(opened[0].written.filter((w) => w.startsWith("POST")).length, 1);
  assert.equal(post.retries, 0);
  session.close();
});

Deno.test("a fresh connection that closes unanswered is not retried, and a retry is tried once", async () => {
  // The server answers its first request only, then closes every connection a request arrives
  // on: the request on the reused connection is retried once, the retry fails too, and that ends
  // it.
  let sent = 0;
  const { session, opened } = fakeSession(() => {
    if (++sent === 1) return [ok("one")];
    const t = opened[opened.length - 1];
    setTimeout(() => t.hangUp(), 1);
    return null;
  });
  await session.send(get(), AS_RESPONSE);
  const request = get();
  const sending = session.send(request, AS_RESPONSE);
  await assert.rejects(
    sending,
    (error: unknown) => error instanceof HttpFailure && error.text === FailureText.closed,
  );
  assert.equal(request.retries, 1);
  assert.equal(opened.length, 2);
  session.close();
});
