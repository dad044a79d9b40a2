import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from "node:zlib";

/**
 * Decodes a body by its `content-encoding` (gzip, deflate, br, or a list of them), as fetch does;
 * unknown codings are left as they are. Runs only when a task reads the body.
 */
export function decodeContent(body: Uint8Array, contentEncoding: string | null): Uint8Array {
  if (!contentEncoding || body.length === 0) return body;
  const codings = contentEncoding.toLowerCase().split(",").map((c) => c.trim()).reverse();
  let out = body;
  for (const coding of codings) {
    if (coding === "gzip" || coding === "x-gzip") out = gunzipSync(out);
    else if (coding === "br") out = brotliDecompressSync(out);
    else if (coding === "deflate") {
      // "deflate" should be zlib-wrapped; some servers send it raw.
      try {
        out = inflateSync(out);
      } catch {
        out = inflateRawSync(out);
      }
    } else if (coding !== "identity" && coding !== "") return out;
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
