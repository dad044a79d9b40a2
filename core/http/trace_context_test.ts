import assert from "node:assert/strict";
import {
  checkTracestate,
  formatTraceparent,
  parseTraceparent,
  RandomIds,
  spanHex,
  TraceContext,
  TraceState,
} from "./trace_context.ts";

Deno.test("ids are lower-case hex of the W3C lengths, never zero, and do not repeat", () => {
  const ids = new RandomIds();
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const span = ids.spanId();
    const trace = ids.traceId().hex;
    assert.match(span, /^[0-9a-f]{16}$/);
    assert.match(trace, /^[0-9a-f]{32}$/);
    assert.ok(!seen.has(span) && !seen.has(trace));
    seen.add(span).add(trace);
  }
});

Deno.test("a traceparent Stampede writes is one a receiver parses back", () => {
  const ids = new RandomIds();
  const traceId = ids.traceId().hex;
  const spanId = ids.spanId();
  for (const sampled of [true, false]) {
    const header = formatTraceparent(traceId, spanId, sampled);
    assert.equal(header.length, 55);
    assert.deepEqual(parseTraceparent(header), {
      version: "00",
      traceId,
      parentId: spanId,
      flags: sampled ? 1 : 0,
      sampled,
    });
  }
});

Deno.test("a trace context writes as bytes the header lines of its traceparent and tracestate", () => {
  const ids = new RandomIds();
  const span = { spanHi: 0, spanLo: 0 };
  const decoder = new TextDecoder();
  for (let i = 0; i < 500; i++) {
    const traceId = ids.traceId();
    ids.spanWords(span);
    const sampled = i % 2 === 0;
    const state = i % 3 === 0 ? new TraceState("stampede=run1") : null;
    const context = new TraceContext(traceId, span.spanHi, span.spanLo, sampled, state);
    const out = new Uint8Array(context.linesLength + 4).fill(33);
    context.writeLines(out, 2);
    const written = decoder.decode(out);
    const lines = `traceparent: ${context.traceparent}\r\n` +
      (state === null ? "" : "tracestate: stampede=run1\r\n");
    assert.equal(written, `!!${lines}!!`);
    assert.deepEqual(parseTraceparent(context.traceparent), {
      version: "00",
      traceId: traceId.hex,
      parentId: spanHex(span.spanHi, span.spanLo),
      flags: sampled ? 1 : 0,
      sampled,
    });
    assert.equal(context.tracestate, state?.value ?? null);
  }
});

Deno.test("invalid traceparents are refused as the specification says", () => {
  const trace = "0af7651916cd43dd8448eb211c80319c";
  const span = "b7ad6b7169203331";
  for (
    const bad of [
      null,
      "",
      `00-${trace}-${span}`,
      `ff-${trace}-${span}-01`,
      `00-${"0".repeat(32)}-${span}-01`,
      `00-${trace}-${"0".repeat(16)}-01`,
      `00-${trace.toUpperCase()}-${span}-01`,
      `00-${trace}-${span}-01-extra`,
    ]
  ) assert.equal(parseTraceparent(bad), null, String(bad));
  // A later version may add fields after the flags.
  assert.equal(parseTraceparent(`01-${trace}-${span}-01-extra`)?.sampled, true);
});

Deno.test("tracestate: valid lists pass trimmed; bad keys, values, duplicates and too many fail", () => {
  assert.equal(
    checkTracestate(" rojo=00f067aa0ba902b7 , congo=t61rcWkgMzE,"),
    "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
  );
  assert.equal(checkTracestate("tenant@vendor=x"), "tenant@vendor=x");
  assert.throws(() => checkTracestate("Upper=1"), /lower-case key/);
  assert.throws(() => checkTracestate("novalue"), /key=value/);
  assert.throws(() => checkTracestate("a=1,a=2"), /appears twice/);
  assert.throws(() => checkTracestate("a=x=y"), /value of "a"/);
  assert.throws(
    () => checkTracestate(Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(",")),
    /at most 32/,
  );
});
