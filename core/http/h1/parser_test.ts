import assert from "node:assert/strict";
import {
  findTrailersEnd,
  HeadCache,
  parseChunkHeader,
  ParseError,
  parseResponseHead,
  skipChunkEnd,
} from "./parser.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("parseResponseHead reads the status, headers and framing", () => {
  const head = bytes(
    "HTTP/1.1 201 Created\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n" +
      "Content-Encoding: gzip\r\nX-Empty:\r\n\r\nhello",
  );
  const parsed = parseResponseHead(head, 0, head.length);
  assert.ok(parsed);
  assert.equal(parsed.status, 201);
  assert.equal(parsed.statusText, "Created");
  assert.equal(parsed.contentLength, 5);
  assert.equal(parsed.chunked, false);
  assert.equal(parsed.keepAlive, true);
  assert.equal(parsed.contentEncoding, "gzip");
  assert.deepEqual(parsed.rawHeaders, [
    "content-length",
    "5",
    "set-cookie",
    "a=1",
    "set-cookie",
    "b=2",
    "content-encoding",
    "gzip",
    "x-empty",
    "",
  ]);
  assert.equal(new TextDecoder().decode(head.subarray(parsed.headLength)), "hello");
});

Deno.test("parseResponseHead returns null until the blank line, at every split", () => {
  const text = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-a: b\r\n\r\nok";
  const all = bytes(text);
  const headLength = text.indexOf("\r\n\r\n") + 4;
  for (let cut = 0; cut < headLength; cut++) {
    assert.equal(parseResponseHead(all, 0, cut), null, `cut at ${cut}`);
  }
  assert.equal(parseResponseHead(all, 0, headLength)?.headLength, headLength);
});

Deno.test("parseResponseHead reads a head that starts inside the buffer", () => {
  const all = bytes("xxxxHTTP/1.0 204 No Content\n\n");
  const parsed = parseResponseHead(all, 4, all.length);
  assert.equal(parsed?.status, 204);
  assert.equal(parsed?.minorVersion, 0);
  assert.equal(parsed?.keepAlive, false, "HTTP/1.0 closes unless it says keep-alive");
  assert.equal(parsed?.headLength, all.length - 4);
});

Deno.test("parseResponseHead: framing and connection rules", () => {
  const parse = (text: string) => parseResponseHead(bytes(text), 0, text.length)!;
  const chunked = parse(
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\ncontent-length: 9\r\n\r\n",
  );
  assert.equal(chunked.chunked, true);
  assert.equal(chunked.contentLength, -1, "chunked wins over content-length");
  assert.equal(parse("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n").keepAlive, false);
  assert.equal(parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n").keepAlive, true);
  assert.equal(parse("HTTP/1.1 200 OK\r\n\r\n").contentLength, -1);
  assert.equal(parse("HTTP/1.1 200 OK\r\ncontent-length: 7, 7\r\n\r\n").contentLength, 7);
  assert.equal(parse("HTTP/1.1 404\r\n\r\n").statusText, "");
});

Deno.test("parseResponseHead refuses malformed heads", () => {
  for (
    const text of [
      "HTP/1.1 200 OK\r\n\r\n",
      "HTTP/1.1 2x0 OK\r\n\r\n",
      "HTTP/2 200 OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
      "HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\n",
      "HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n",
      "HTTP/1.1 200 OK\r\ncontent-length: 12abc\r\n\r\n",
    ]
  ) {
    assert.throws(() => parseResponseHead(bytes(text), 0, text.length), ParseError, text);
  }
  // Garbage fails before a blank line ever arrives.
  assert.throws(() => parseResponseHead(bytes("\x00\x00\x12\x04\x00"), 0, 5), ParseError);
});

Deno.test("parseChunkHeader reads sizes and extensions, null while incomplete", () => {
  const line = bytes("1aF;name=value\r\ndata");
  assert.deepEqual(parseChunkHeader(line, 0, line.length), { size: 0x1af, dataStart: 16 });
  for (let cut = 0; cut < 16; cut++) assert.equal(parseChunkHeader(line, 0, cut), null);
  const bare = bytes("0\n");
  assert.deepEqual(parseChunkHeader(bare, 0, 2), { size: 0, dataStart: 2 });
  assert.throws(() => parseChunkHeader(bytes("zz\r\n"), 0, 4), ParseError);
  assert.throws(() => parseChunkHeader(bytes("12x\r\n"), 0, 5), ParseError);
  assert.throws(() => parseChunkHeader(bytes("1234567890abcd\r\n"), 0, 16), ParseError);
});

Deno.test("skipChunkEnd and findTrailersEnd", () => {
  const end = bytes("\r\nX");
  assert.equal(skipChunkEnd(end, 0, 3), 2);
  assert.equal(skipChunkEnd(end, 0, 1), null);
  assert.throws(() => skipChunkEnd(bytes("ab"), 0, 2), ParseError);
  assert.equal(findTrailersEnd(bytes("\r\n"), 0, 2), 2);
  assert.equal(findTrailersEnd(bytes("\r"), 0, 1), -1);
  const trailers = bytes("x-t: 1\r\ny: 2\r\n\r\nnext");
  assert.equal(findTrailersEnd(trailers, 0, trailers.length), trailers.length - 4);
  assert.equal(findTrailersEnd(trailers, 0, 10), -1);
});

Deno.test("HeadCache returns the same head for the same bytes and parses a changed one", () => {
  const cache = new HeadCache();
  const first = bytes("HTTP/1.1 200 OK\r\ndate: a\r\ncontent-length: 2\r\n\r\nok");
  const a = cache.parse(first, 0, first.length);
  assert.ok(a);
  const again = bytes("xxHTTP/1.1 200 OK\r\ndate: a\r\ncontent-length: 2\r\n\r\nno");
  assert.equal(cache.parse(again, 2, again.length), a, "identical head: the cached object");
  const changed = bytes("HTTP/1.1 200 OK\r\ndate: b\r\ncontent-length: 3\r\n\r\nyes");
  const b = cache.parse(changed, 0, changed.length);
  assert.notEqual(b, a);
  assert.equal(b?.contentLength, 3);
  // A prefix of the cached head is incomplete, not a match.
  assert.equal(cache.parse(changed, 0, 10), null);
  assert.equal(cache.parse(changed, 0, changed.length), b);
});

Deno.test("HeadCache tells apart heads that differ in any one byte, at any offset", () => {
  const text = "HTTP/1.1 200 OK\r\nserver: t\r\ncontent-length: 12\r\n\r\n";
  for (const offset of [0, 1, 2, 3, 4, 8]) {
    const cache = new HeadCache();
    const buf = new Uint8Array(offset + text.length + 8);
    buf.set(bytes(text), offset);
    const cached = cache.parse(buf, offset, buf.length)!;
    assert.equal(cache.parse(buf, offset, buf.length), cached, `offset ${offset}: same head`);
    for (let i = 0; i < text.length; i++) {
      const changed = buf.slice();
      // A byte that keeps the head valid where it can: a digit, a letter or a space changes.
      changed[offset + i] = /[0-9]/.test(text[i])
        ? (text[i] === "1" ? 50 : 49)
        : text[i] === " "
        ? 32
        : /[a-z]/.test(text[i])
        ? 120
        : changed[offset + i];
      if (changed[offset + i] === buf[offset + i]) continue;
      const current = cache.parse(buf, offset, buf.length);
      assert.equal(cache.parse(buf, offset, buf.length), current);
      let parsed: unknown;
      try {
        parsed = cache.parse(changed, offset, changed.length);
      } catch {
        parsed = "malformed";
      }
      assert.notEqual(parsed, current, `offset ${offset}, byte ${i} changed`);
    }
  }
});

Deno.test("parseResponseHead decodes header text lazily, latin1 when it is not UTF-8", () => {
  const head = new Uint8Array([
    ...bytes("HTTP/1.1 200 Fine\r\nX-Name: caf"),
    0xe9,
    ...bytes("\r\nConnection: Keep-Alive, Upgrade\r\n\r\n"),
  ]);
  const parsed = parseResponseHead(head, 0, head.length)!;
  assert.equal(parsed.keepAlive, true);
  assert.equal(parsed.statusText, "Fine");
  assert.deepEqual(parsed.rawHeaders, ["x-name", "café", "connection", "Keep-Alive, Upgrade"]);
  assert.equal(parsed.setsCookies, false);
  const close = bytes("HTTP/1.1 200 OK\r\nCONNECTION: CLOSE\r\nSet-Cookie: a=b\r\n\r\n");
  const closing = parseResponseHead(close, 0, close.length)!;
  assert.equal(closing.keepAlive, false);
  assert.equal(closing.setsCookies, true);
});
