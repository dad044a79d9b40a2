// Reading the json recorder's NDJSON output in tests: every line parsed and checked against
// docs/records.schema.json (ajv), so each test that reads records also checks the contract.
import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import { ROOT } from "./helpers.ts";

const schema = JSON.parse(await Deno.readTextFile(`${ROOT}docs/records.schema.json`));
const validate = new Ajv2020({ allErrors: true, strictTypes: false }).compile(schema);

// deno-lint-ignore no-explicit-any
export type JsonRecord = Record<string, any>;

/** Reads an NDJSON file; every line must parse and validate against the schema. */
export async function readRecords(path: string): Promise<JsonRecord[]> {
  const text = await Deno.readTextFile(path);
  assert.ok(text.endsWith("\n"), "the file ends with a whole line");
  return text.trimEnd().split("\n").map((line, i) => {
    let record: JsonRecord;
    try {
      record = JSON.parse(line);
    } catch (error) {
      throw new Error(`line ${i + 1} is not JSON: ${line}`, { cause: error });
    }
    assert.ok(validate(record), `line ${i + 1}: ${JSON.stringify(validate.errors)}\n${line}`);
    return record;
  });
}
