import assert from "node:assert/strict";
import { MAX_FAILURE_TEXT, normalizeFailureText } from "./failure_text.ts";

Deno.test("failure texts that differ only by ids and numbers become one text", () => {
  const cases: [string, string][] = [
    ["Error: order 81723 not found", "Error: order <n> not found"],
    ["Error: order 12 not found", "Error: order <n> not found"],
    [
      "Error: user 3f2504e0-4f89-11d3-9a0c-0305e82c3301 has no cart",
      "Error: user <uuid> has no cart",
    ],
    ["Error: session a81f9c0e27bd44 expired at 0x7ffe", "Error: session <id> expired at <n>"],
    ["Error: took 1.25 s, more than 1 s", "Error: took <n> s, more than <n> s"],
    ["Error: cart rejected", "Error: cart rejected"],
    ["Error: deadline_exceeded in checkout", "Error: deadline_exceeded in checkout"],
    ["Error: first line\n    at stack (file:1:2)", "Error: first line"],
  ];
  for (const [text, grouped] of cases) assert.equal(normalizeFailureText(text), grouped, text);
  const distinct = new Set<string>();
  for (let id = 0; id < 10_000; id++) distinct.add(normalizeFailureText(`Error: order ${id}`));
  assert.equal(distinct.size, 1);
});

Deno.test("a long failure text is cut", () => {
  const long = normalizeFailureText(`Error: ${"x".repeat(500)}`);
  assert.equal(long.length, MAX_FAILURE_TEXT);
  assert.ok(long.endsWith("..."));
});

Deno.test("numbers with units attached are numbers too", () => {
  assert.equal(
    normalizeFailureText("order 17 not found (took 0.123s, 250ms, retry 3x)"),
    "order <n> not found (took <n>s, <n>ms, retry <n>x)",
  );
});
