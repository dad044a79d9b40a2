import assert from "node:assert/strict";
import type { EngineRequest } from "../engine.ts";
import { buildHead, COALESCE_BODY_BYTES, createRequestWriter } from "./request_head.ts";

const decoder = new TextDecoder();
const url = new URL("http://example.test/path?q=1");

function request(overrides: Partial<EngineRequest> = {}): EngineRequest {
  return {
    method: "GET",
    url,
    headers: {},
    body: null,
    cacheableHead: false,
    deadlineMs: 0,
    timeoutMs: 0,
    keepBody: true,
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

Deno.test("the request writer reuses a cacheable head per method and URL object", () => {
  const write = createRequestWriter();
  const first = write(request({ cacheableHead: true }));
  assert.equal(write(request({ cacheableHead: true })), first, "same bytes, not rebuilt");
  assert.notEqual(write(request({ cacheableHead: true, method: "DELETE" })), first);
  assert.notEqual(write(request({ cacheableHead: true, url: new URL(url) })), first);
  assert.notEqual(write(request()), first, "not cacheable: built again");
});

Deno.test("the request writer sends a small body with the head, a large one after it", () => {
  const write = createRequestWriter();
  const small = write(request({ method: "POST", body: new Uint8Array([65, 66]) }));
  assert.match(decoder.decode(small), /\r\n\r\nAB$/);
  const large = write(request({ method: "POST", body: new Uint8Array(COALESCE_BODY_BYTES + 1) }));
  assert.match(decoder.decode(large), /\r\n\r\n$/);
});
