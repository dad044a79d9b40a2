// The byte-level response head parser against a plain string-based reference (the parser it
// replaced), on generated heads: valid ones, and ones with one thing wrong.
import assert from "node:assert/strict";
import { parseResponseHead } from "./parser.ts";

/** The reference: decode the head, split it into lines, match them with regular expressions. */
function reference(head: Uint8Array) {
  let text = new TextDecoder().decode(head);
  if (text.includes("\uFFFD")) text = new TextDecoder("latin1").decode(head);
  const lines = text.split("\n").map((l) => l.endsWith("\r") ? l.slice(0, -1) : l);
  const match = /^HTTP\/1\.([01]) ([0-9]{3})(?: (.*))?$/.exec(lines[0]);
  if (!match || Number(match[2]) < 100) return "error";
  const minor = Number(match[1]);
  const rawHeaders: string[] = [];
  let contentLength = -1;
  let chunked = false;
  let close = false;
  let keepAliveAsked = false;
  let contentEncoding: string | null = null;
  let setsCookies = false;
  for (const line of lines.slice(1)) {
    if (line === "") break;
    const colon = line.indexOf(":");
    if (colon <= 0) return "error";
    const name = line.slice(0, colon).toLowerCase();
    if (/[^!#$%&'*+\-.^_`|~0-9a-z]/.test(name)) return "error";
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    rawHeaders.push(name, value);
    if (name === "content-length") {
      for (const part of value.split(",")) {
        const v = part.replace(/^[ \t]+|[ \t]+$/g, "");
        if (!/^[0-9]+$/.test(v)) return "error";
        if (contentLength >= 0 && Number(v) !== contentLength) return "error";
        contentLength = Number(v);
      }
    } else if (name === "transfer-encoding") {
      chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
    } else if (name === "connection") {
      close ||= value.toLowerCase().includes("close");
      keepAliveAsked ||= value.toLowerCase().includes("keep-alive");
    } else if (name === "content-encoding") {
      contentEncoding = contentEncoding === null ? value : `${contentEncoding}, ${value}`;
    } else if (name === "set-cookie") {
      setsCookies = true;
    }
  }
  return {
    minorVersion: minor,
    status: Number(match[2]),
    statusText: match[3] ?? "",
    rawHeaders,
    contentLength: chunked ? -1 : contentLength,
    chunked,
    keepAlive: !close && (minor === 1 || keepAliveAsked),
    contentEncoding,
    setsCookies,
    headLength: head.length,
  };
}

function parsed(head: Uint8Array) {
  try {
    const h = parseResponseHead(head, 0, head.length);
    if (h === null) return "incomplete";
    return {
      minorVersion: h.minorVersion,
      status: h.status,
      statusText: h.statusText,
      rawHeaders: h.rawHeaders,
      contentLength: h.contentLength,
      chunked: h.chunked,
      keepAlive: h.keepAlive,
      contentEncoding: h.contentEncoding,
      setsCookies: h.setsCookies,
      headLength: h.headLength,
    };
  } catch {
    return "error";
  }
}

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("parseResponseHead agrees with a string-based reference on 3000 generated heads", () => {
  const next = random(20261124);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const oneOf = (p: number) => next() < p;
  const randomCase = (s: string) => [...s].map((c) => oneOf(0.3) ? c.toUpperCase() : c).join("");
  const names = [
    "content-length",
    "transfer-encoding",
    "connection",
    "content-encoding",
    "set-cookie",
    "date",
    "server",
    "x-request-id",
    "location",
    "content-type",
  ];
  const valuesFor = (name: string): string[] => {
    switch (name) {
      case "content-length":
        return ["0", "13", "1048576", "7, 7", "7,8", "-1", "12abc", "", " 42 ", "9999999999"];
      case "transfer-encoding":
        return ["chunked", "gzip, chunked", "chunked, gzip", "Chunked", "identity"];
      case "connection":
        return ["keep-alive", "close", "Keep-Alive", "CLOSE", "keep-alive, Upgrade", "upgrade"];
      case "content-encoding":
        return ["gzip", "br", "deflate, gzip", ""];
      default:
        return [
          "a=1; Path=/",
          "nginx/1.22.1",
          "Tue, 24 Nov 2026 10:28:09 GMT",
          "",
          "x\tx",
          "caf\xe9",
        ];
    }
  };
  let compared = 0;
  for (let i = 0; i < 3000; i++) {
    const eol = oneOf(0.85) ? "\r\n" : "\n";
    const status = pick(["200", "201", "204", "301", "304", "404", "500", "099", "2x0", "20"]);
    const minor = pick(["1", "1", "0", "2"]);
    const reason = pick([" OK", " Not Found", "", " ", " Spaced  reason ", "OK"]);
    const lines = [`HTTP/1.${minor} ${status}${reason}`];
    const count = Math.floor(next() * 6);
    for (let h = 0; h < count; h++) {
      const name = pick(names);
      const space = pick(["", " ", "  ", "\t", " \t"]);
      const tail = pick(["", "", " ", "\t"]);
      lines.push(`${randomCase(name)}:${space}${pick(valuesFor(name))}${tail}`);
    }
    // One thing wrong, now and then.
    if (oneOf(0.1)) {
      lines.push(pick(["no colon", "bad name: x", ": empty", " folded: x", "a@b: c"]));
    }
    const text = lines.join(eol) + eol + eol;
    const head = Uint8Array.from(text, (c) => c.charCodeAt(0));
    const expected = reference(head);
    assert.deepEqual(parsed(head), expected, JSON.stringify(text));
    compared++;
    // Every cut of a valid head before its end is incomplete, never a different answer.
    if (expected !== "error" && i % 10 === 0) {
      for (let cut = 0; cut < head.length; cut++) {
        const got = parsed(head.subarray(0, cut));
        assert.ok(
          got === "incomplete",
          `${JSON.stringify(text)} cut at ${cut}: ${JSON.stringify(got)}`,
        );
      }
    }
  }
  assert.equal(compared, 3000);
});
