import assert from "node:assert/strict";
import type { EngineRequest, HeadSlot } from "../engine.ts";
import {
  buildHead,
  COALESCE_BODY_BYTES,
  requestBytes,
  requestHead,
  WriteBuffer,
} from "./request_head.ts";
import { parseTraceparent, TraceContext, TraceId, TraceState } from "../trace_context.ts";

const decoder = new TextDecoder();
const url = new URL("http://example.test/path?q=1");

/** What the engine writes first for `r`, composed in `buffer` (a connection's). */
function bytesOf(r: EngineRequest, buffer = new WriteBuffer()): Uint8Array {
  return requestBytes(r, requestHead(r), buffer);
}

function request(overrides: Partial<EngineRequest> = {}): EngineRequest {
  return {
    method: "GET",
    url,
    headers: {},
    body: null,
    headSlot: null,
    deadlineMs: 0,
    timeoutMs: 0,
    keepBody: true,
    retries: 0,
    trace: null,
    ...overrides,
  };
}

Deno.test("buildHead: request line, host, default accept headers, the request's own headers", () => {
  const head = decoder.decode(
    buildHead(request({ headers: { "x-a": "1", accept: "text/plain" } })),
  );
  assert.equal(
    head,
    "GET /path?q=1 HTTP/1.1\r\nhost: example.test\r\naccept-language: *\r\n" +
      "accept-encoding: gzip,br\r\nx-a: 1\r\naccept: text/plain\r\n\r\n",
  );
});

Deno.test("buildHead: the engine owns host, content-length and transfer-encoding", () => {
  const head = decoder.decode(buildHead(request({
    method: "POST",
    headers: { host: "evil", "content-length": "9", "transfer-encoding": "chunked" },
    body: new Uint8Array(3),
  })));
  assert.match(head, /host: example.test\r\n/);
  assert.doesNotMatch(head, /evil|chunked|content-length: 9/);
  assert.match(head, /content-length: 3\r\n\r\n$/);
  const empty = decoder.decode(buildHead(request({ method: "PUT" })));
  assert.match(empty, /content-length: 0\r\n/, "a PUT without a body says so");
});

Deno.test("buildHead: a header with CR, LF or NUL is refused, naming the header", () => {
  assert.throws(
    () => buildHead(request({ headers: { "x-bad": "a\r\nx-injected: 1" } })),
    { name: "TypeError", message: 'Cannot send header "x-bad": it contains CR or LF' },
  );
  assert.throws(
    () => buildHead(request({ headers: { "x-nul": "a\0b" } })),
    { message: 'Cannot send header "x-nul": it contains NUL' },
  );
});

Deno.test("requestBytes keeps the head in the request's head slot and reuses it", () => {
  const slot: HeadSlot = { head: null };
  const first = bytesOf(request({ headSlot: slot }));
  assert.equal(slot.head, first);
  assert.equal(bytesOf(request({ headSlot: slot })), first, "same bytes, not rebuilt");
  assert.notEqual(bytesOf(request()), first, "no slot: built again");
  assert.equal(decoder.decode(bytesOf(request())), decoder.decode(first));
});

Deno.test("requestBytes sends a small body with the head, a large one after it", () => {
  const small = bytesOf(request({ method: "POST", body: new Uint8Array([65, 66]) }));
  assert.match(decoder.decode(small), /\r\n\r\nAB$/);
  const large = bytesOf(
    request({ method: "POST", body: new Uint8Array(COALESCE_BODY_BYTES + 1) }),
  );
  assert.match(decoder.decode(large), /\r\n\r\n$/);
});

Deno.test("buildHead: credentials in the URL go as Basic auth (as fetch sends them), never in the host", async () => {
  const withUser = new URL("http://al%20ice:p%C3%A4ss@example.test/x");
  const head = decoder.decode(buildHead(request({ url: withUser })));
  assert.match(head, /host: example.test\r\n/);
  const expected = `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode("al ice:päss")))}`;
  assert.match(head, new RegExp(`authorization: ${expected.replace(/[+/=]/g, "\\$&")}\r\n`));
  // What Deno's fetch sends for the same URL.
  let sent: string | null = null;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    sent = req.headers.get("authorization");
    return new Response("ok");
  });
  try {
    const port = (server.addr as Deno.NetAddr).port;
    await (await fetch(`http://al%20ice:p%C3%A4ss@127.0.0.1:${port}/x`)).text();
    assert.equal(sent, expected);
  } finally {
    await server.shutdown();
  }
  const own = decoder.decode(
    buildHead(request({ url: withUser, headers: { authorization: "Bearer t" } })),
  );
  assert.doesNotMatch(own, /Basic/, "the request's own authorization wins");
});

/** The trace context a tracer would make for `traceparent` (a valid one) and `tracestate`. */
function traceOf(traceparent: string, tracestate: string | null): TraceContext {
  const parsed = parseTraceparent(traceparent)!;
  const word = (hex: string, at: number) => parseInt(hex.slice(at, at + 8), 16);
  const t = parsed.traceId;
  return new TraceContext(
    new TraceId(word(t, 0), word(t, 8), word(t, 16), word(t, 24)),
    word(parsed.parentId, 0),
    word(parsed.parentId, 8),
    parsed.sampled,
    tracestate === null ? null : new TraceState(tracestate),
  );
}

Deno.test("a traced request's head is the kept head with its trace lines spliced in; the kept head has none", () => {
  const slot: HeadSlot = { head: null };
  const headers = { "user-agent": "stampede/test" };
  const trace = traceOf("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "stampede=run1");
  const traced = decoder.decode(bytesOf(request({ headers, headSlot: slot, trace })));
  // The same bytes as for the request without a head slot, and with the headers as fetch sends them.
  assert.equal(traced, decoder.decode(bytesOf(request({ headers, trace }))));
  assert.equal(
    traced,
    decoder.decode(
      buildHead(
        request({
          headers: {
            ...headers,
            "traceparent": trace.traceparent,
            "tracestate": trace.tracestate!,
          },
        }),
      ),
    ),
  );
  assert.match(
    traced,
    /\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\ntracestate: stampede=run1\r\n\r\n$/,
  );
  // The slot keeps the untraced head, which the next untraced request sends as it is.
  const plain = decoder.decode(bytesOf(request({ headers, headSlot: slot })));
  assert.equal(plain, decoder.decode(slot.head!));
  assert.doesNotMatch(plain, /trace/);
  // Without a tracestate of the run, only traceparent.
  const parentOnly = decoder.decode(
    bytesOf(request({ headers, headSlot: slot, trace: traceOf(trace.traceparent, null) })),
  );
  assert.equal(
    parentOnly,
    plain.replace(/\r\n\r\n$/, `\r\ntraceparent: ${trace.traceparent}\r\n\r\n`),
  );
});

Deno.test("a plan's own traceparent is replaced by the trace's, sent once; its tracestate stays when the run has none", () => {
  const slot: HeadSlot = { head: null };
  const headers = {
    traceparent: "00-11111111111111111111111111111111-2222222222222222-01",
    tracestate: "plan=1",
  };
  const trace = traceOf("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", null);
  const head = decoder.decode(bytesOf(request({ headers, headSlot: slot, trace })));
  assert.equal(head.match(/traceparent/g)?.length, 1);
  assert.match(head, /traceparent: 00-0af7[^\r]*-00\r\n/);
  assert.match(head, /tracestate: plan=1\r\n/);
  const withState = decoder.decode(
    bytesOf(request({ headers, headSlot: slot, trace: traceOf(trace.traceparent, "run=2") })),
  );
  assert.equal(withState.match(/tracestate/g)?.length, 1);
  assert.match(withState, /tracestate: run=2\r\n/);
  // A head built for the request alone has none of the plan's trace headers: the bytes have ours.
  assert.doesNotMatch(
    decoder.decode(buildHead(request({ headers, headSlot: slot, trace }))),
    /traceparent/,
  );
});

Deno.test("a connection composes traced heads and small bodies in one buffer of its own, reused", () => {
  const slot: HeadSlot = { head: null };
  const buffer = new WriteBuffer();
  const trace = traceOf("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", null);
  const first = bytesOf(request({ headSlot: slot, trace }), buffer);
  const second = bytesOf(
    request({ method: "POST", headSlot: slot, trace, body: new Uint8Array([65, 66]) }),
    buffer,
  );
  assert.equal(first.buffer, second.buffer, "the same buffer");
  assert.match(decoder.decode(second), /traceparent: 00-0af7[^\r]*-01\r\n\r\nAB$/);
  // An untraced request without a body writes the kept head itself.
  assert.equal(bytesOf(request({ headSlot: slot }), buffer), slot.head);
});
