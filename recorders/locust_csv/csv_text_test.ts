import assert from "node:assert/strict";
import { csvRow, fixedSix, pythonFloat, pythonInt } from "./csv_text.ts";

Deno.test("csvRow quotes as Python's csv.writer: only fields with a comma, quote or line break", () => {
  assert.equal(csvRow(["GET", "/a", "3"]), "GET,/a,3\r\n");
  assert.equal(csvRow(["", "Aggregated"]), ",Aggregated\r\n");
  // Locust's own fixture: GET,"/500, ""quoted""",...
  assert.equal(csvRow(["GET", '/500, "quoted"']), 'GET,"/500, ""quoted"""\r\n');
  assert.equal(csvRow(["line\nbreak", "cr\r"]), '"line\nbreak","cr\r"\r\n');
});

Deno.test("pythonFloat prints what Python's repr prints", () => {
  // Expected values are Python 3's repr() of the same floats.
  const cases: [number, string][] = [
    [2, "2.0"],
    [0, "0.0"],
    [3.6215845946178495, "3.6215845946178495"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [0.000015, "1.5e-05"],
    [1e-7, "1e-07"],
    [123456789012345.6, "123456789012345.6"],
    [1e16, "1e+16"],
    [1.5e16, "1.5e+16"],
    [-2.5, "-2.5"],
    [100, "100.0"],
    [0.1 + 0.2, "0.30000000000000004"],
  ];
  for (const [value, text] of cases) assert.equal(pythonFloat(value), text, String(value));
});

Deno.test("pythonInt rounds; fixedSix has six decimals as Locust's f'{x:2f}'", () => {
  assert.equal(pythonInt(3.4), "3");
  assert.equal(pythonInt(3.5), "4");
  assert.equal(fixedSix(28), "28.000000");
  assert.equal(fixedSix(1 / 3), "0.333333");
});
