// The rows of a plan's data files, read and parsed once on the coordinator and held in shared
// memory: every load worker reads the same bytes (no copy per worker, none per user), and a
// shared counter hands out rows in order, or each row once across every worker.
import { parse } from "npm:csv-parse@7.0.3/sync";
import { fileURLToPath } from "node:url";
import { DataExhausted, describeError, PlanError } from "../errors.ts";
import type { DataFeed, DataOrder, DataSource } from "../plan/data.ts";

/** A data file's rows in shared memory: plain data, posted to each load worker as is. */
export interface SharedTable {
  name: string;
  order: DataOrder;
  rows: number;
  /** Each row as JSON text in UTF-8, one after another. */
  bytes: SharedArrayBuffer;
  /** Where row i starts (Uint32, rows + 1 entries: the last is the end). */
  offsets: SharedArrayBuffer;
  /** The rows handed out so far, for `circular` and `unique` (BigInt64, one entry). */
  counter: SharedArrayBuffer;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The file a data source names: relative paths are relative to the plan module's folder. */
function fileOf(source: DataSource, planUrl: string): string {
  const path = source.path;
  if (path instanceof URL) return fileURLToPath(path);
  if (path.startsWith("file:")) return fileURLToPath(path);
  if (path.startsWith("/")) return path;
  const base = planUrl.startsWith("file:") ? planUrl : `file://${Deno.cwd()}/`;
  return fileURLToPath(new URL(path, base));
}

/** The rows of a data file: objects by header column (CSV), or the array's elements (JSON). */
function parseRows(source: DataSource, text: string): unknown[] {
  if (source.kind === "csv") {
    return parse(text, { columns: true, skip_empty_lines: true, bom: true }) as unknown[];
  }
  const value = JSON.parse(text);
  if (!Array.isArray(value)) throw new Error("it does not hold a JSON array");
  return value;
}

/** Reads and parses data source `name` into shared memory; throws {@link PlanError}. */
export async function loadTable(
  name: string,
  source: DataSource,
  planUrl: string,
): Promise<SharedTable> {
  const file = fileOf(source, planUrl);
  let rows: unknown[];
  try {
    rows = parseRows(source, await Deno.readTextFile(file));
  } catch (cause) {
    throw new PlanError(`Cannot load data "${name}" from "${file}": ${describeError(cause)}`, {
      cause,
    });
  }
  if (rows.length === 0) {
    throw new PlanError(`Cannot load data "${name}" from "${file}": it has no rows`);
  }
  const encoded = rows.map((row) => encoder.encode(JSON.stringify(row)));
  const total = encoded.reduce((n, row) => n + row.length, 0);
  const bytes = new SharedArrayBuffer(total);
  const offsets = new SharedArrayBuffer(4 * (rows.length + 1));
  const byteView = new Uint8Array(bytes);
  const offsetView = new Uint32Array(offsets);
  let at = 0;
  encoded.forEach((row, i) => {
    offsetView[i] = at;
    byteView.set(row, at);
    at += row.length;
  });
  offsetView[rows.length] = at;
  return {
    name,
    order: source.order,
    rows: rows.length,
    bytes,
    offsets,
    counter: new SharedArrayBuffer(8),
  };
}

/** A load worker's view of a shared table: rows decoded when asked for, never kept. */
export class TableFeed implements DataFeed {
  readonly #table: SharedTable;
  readonly #bytes: Uint8Array;
  readonly #offsets: Uint32Array;
  readonly #counter: BigInt64Array;
  readonly #onExhausted: (name: string) => void;

  /** `onExhausted` is told when a `unique` feed first has no row for a user. */
  constructor(table: SharedTable, onExhausted: (name: string) => void = () => {}) {
    this.#table = table;
    this.#bytes = new Uint8Array(table.bytes);
    this.#offsets = new Uint32Array(table.offsets);
    this.#counter = new BigInt64Array(table.counter);
    this.#onExhausted = onExhausted;
  }

  get length(): number {
    return this.#table.rows;
  }

  next<Row = Record<string, string>>(): Row {
    const rows = this.#table.rows;
    switch (this.#table.order) {
      case "random":
        return this.at(Math.floor(Math.random() * rows));
      case "circular":
        return this.at(Number(Atomics.add(this.#counter, 0, 1n) % BigInt(rows)));
      case "unique": {
        const index = Number(Atomics.add(this.#counter, 0, 1n));
        if (index >= rows) {
          if (index === rows) this.#onExhausted(this.#table.name);
          throw new DataExhausted(this.#table.name);
        }
        return this.at(index);
      }
    }
  }

  at<Row = Record<string, string>>(index: number): Row {
    if (!Number.isInteger(index) || index < 0 || index >= this.#table.rows) {
      throw new RangeError(
        `Cannot read row ${index} of data "${this.#table.name}": it has rows 0 to ${
          this.#table.rows - 1
        }`,
      );
    }
    // A copy of the row's few bytes: decoding straight from shared memory is not allowed
    // everywhere, and the row's text is all that is ever copied.
    const row = this.#bytes.slice(this.#offsets[index], this.#offsets[index + 1]);
    return JSON.parse(decoder.decode(row)) as Row;
  }
}
