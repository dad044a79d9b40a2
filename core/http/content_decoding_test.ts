import assert from "node:assert/strict";
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { decodeContent } from "./content_decoding.ts";

const text = "a body that compresses, a body that compresses";
const plain = new TextEncoder().encode(text);
const decode = (bytes: Uint8Array, coding: string | null) =>
  new TextDecoder().decode(decodeContent(new Uint8Array(bytes), coding));

Deno.test("decodeContent undoes gzip, deflate (wrapped or raw), br and lists of them", () => {
  assert.equal(decode(gzipSync(plain), "gzip"), text);
  assert.equal(decode(deflateSync(plain), "deflate"), text);
  assert.equal(decode(deflateRawSync(plain), "deflate"), text);
  assert.equal(decode(brotliCompressSync(plain), "br"), text);
  assert.equal(decode(brotliCompressSync(gzipSync(plain)), "gzip, br"), text);
  assert.equal(decode(plain, null), text);
  assert.equal(decode(plain, "identity"), text);
  assert.equal(decode(plain, "zstd-unknown"), text, "unknown codings are left alone");
});

Deno.test("decodeContent throws on a corrupt body", () => {
  assert.throws(() => decodeContent(plain, "gzip"));
});
