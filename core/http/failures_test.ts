import assert from "node:assert/strict";
import { FailureText, HttpFailure } from "./engine.ts";
import { failureOf, MalformedResponse } from "./failures.ts";
import { ParseError } from "./h1/parser.ts";

const text = (error: unknown, timeoutMs = 1500) => failureOf(error, timeoutMs).text;
/** An error as Deno's fetch throws it: "fetch failed", with what happened in its causes. */
const fetchError = (cause: string) =>
  new TypeError("fetch failed", { cause: new Error("client error (Connect)", { cause: cause }) });

Deno.test("failureOf: socket errors by type, as the h1 engine meets them", () => {
  assert.equal(text(new Deno.errors.ConnectionRefused("x")), FailureText.refused);
  assert.equal(text(new Deno.errors.ConnectionReset("x")), FailureText.reset);
  assert.equal(text(new Deno.errors.BrokenPipe("x")), FailureText.reset);
  assert.equal(text(new Deno.errors.ConnectionAborted("x")), FailureText.reset);
  assert.equal(text(Object.assign(new Error("x"), { code: "ECONNRESET" })), FailureText.reset);
  assert.equal(text(Object.assign(new Error("x"), { code: "ECONNREFUSED" })), FailureText.refused);
  assert.equal(text(new Deno.errors.UnexpectedEof("x")), FailureText.closed);
  assert.equal(text(new ParseError("bad status line")), FailureText.malformed);
  assert.equal(text(new MalformedResponse("anything")), FailureText.malformed);
});

Deno.test("failureOf: errors by their text and their causes, as fetch throws them", () => {
  assert.equal(text(fetchError("tcp connect error: Connection refused")), FailureText.refused);
  assert.equal(text(fetchError("connection reset by peer")), FailureText.reset);
  assert.equal(text(fetchError("dns error: failed to lookup address")), FailureText.dns);
  assert.equal(text(fetchError("invalid peer certificate: UnknownIssuer")), FailureText.tls);
  assert.equal(text(fetchError("received fatal alert: HandshakeFailure")), FailureText.handshake);
  assert.equal(text(fetchError("invalid HTTP version parsed")), FailureText.malformed);
  assert.equal(text(fetchError("connection closed before message completed")), FailureText.closed);
});

Deno.test("failureOf: a certificate error naming a DnsName is a certificate error", () => {
  const error = new Error(
    'invalid peer certificate: certificate not valid for name; valid for DnsName("a.test")',
  );
  assert.equal(text(error), FailureText.tls);
});

Deno.test("failureOf: timeouts carry the request's timeout; HttpFailures pass through", () => {
  assert.equal(text(new DOMException("late", "TimeoutError"), 250), FailureText.timeout(250));
  const failure = new HttpFailure(FailureText.redirects(20));
  assert.equal(failureOf(failure, 1), failure);
});

Deno.test("failureOf: anything else keeps its own short text, without URLs", () => {
  const failure = failureOf(
    new Error("odd thing for url (http://x.test/a?b=1) at http://y.test/c"),
    1,
  );
  assert.equal(failure.text, "Error: odd thing at <url>");
  assert.ok(failure.cause instanceof Error, "the original error is kept as the cause");
});
