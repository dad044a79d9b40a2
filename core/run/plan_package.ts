// What a worker process on another machine gets of the plan: the bundled code of the plan and its
// local imports, and the rows of its data files, as one JSON text with a SHA-256 content hash.
// Locally, data tables are shared memory; that cannot cross a WebSocket, so their bytes travel
// and each worker process builds its own shared copy for its load workers. Rows of a `unique`
// table are split: each process gets a disjoint share, so no row is given twice across machines.
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import type { DataOrder } from "../plan/data.ts";
import type { SharedTable } from "./data_table.ts";

/** A data table as it travels: its rows' bytes and offsets in base64. */
export interface PackedTable {
  name: string;
  order: DataOrder;
  rows: number;
  /** Each row as JSON text in UTF-8, one after another (base64). */
  bytes: string;
  /** Where row i starts, Uint32 little-endian, rows + 1 entries (base64). */
  offsets: string;
}

/** The plan as a worker process gets it. */
export interface PlanPackage {
  /** The bundled plan (bundle_loader.ts), evaluated by every load worker. */
  code: string;
  data: PackedTable[];
}

/** A package ready to send: its JSON text and that text's SHA-256 in hex. */
export interface SealedPlan {
  text: string;
  hash: string;
}

/** SHA-256 of `text` (UTF-8), in hex. */
export function contentHash(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Rows `indices` of `table`, packed. */
function packRows(table: SharedTable, indices: readonly number[]): PackedTable {
  const source = new Uint8Array(table.bytes);
  const sourceOffsets = new Uint32Array(table.offsets);
  let total = 0;
  for (const i of indices) total += sourceOffsets[i + 1] - sourceOffsets[i];
  const bytes = new Uint8Array(total);
  const offsets = new Uint32Array(indices.length + 1);
  let at = 0;
  indices.forEach((row, i) => {
    offsets[i] = at;
    const start = sourceOffsets[row];
    const end = sourceOffsets[row + 1];
    bytes.set(source.subarray(start, end), at);
    at += end - start;
  });
  offsets[indices.length] = at;
  return {
    name: table.name,
    order: table.order,
    rows: indices.length,
    bytes: Buffer.from(bytes).toString("base64"),
    offsets: Buffer.from(new Uint8Array(offsets.buffer)).toString("base64"),
  };
}

/**
 * The rows of a `unique` table that go to a worker process: of the run's `workers` load workers
 * (numbered 1 to `workers`), the process runs `mine`; it gets the rows `r` whose `r % workers + 1`
 * is one of them. Shares are disjoint and in proportion to each process's load workers.
 */
export function uniqueShare(rows: number, workers: number, mine: readonly number[]): number[] {
  const ids = new Set(mine);
  const share: number[] = [];
  for (let r = 0; r < rows; r++) if (ids.has((r % workers) + 1)) share.push(r);
  return share;
}

/**
 * Packs the plan for one worker process: every row of `circular` and `random` tables, and its
 * share of `unique` ones (see {@link uniqueShare}).
 */
export function sealPlan(
  code: string,
  tables: readonly SharedTable[],
  workers: number,
  mine: readonly number[],
): SealedPlan {
  const data = tables.map((table) => {
    const all = Array.from({ length: table.rows }, (_, i) => i);
    return packRows(table, table.order === "unique" ? uniqueShare(table.rows, workers, mine) : all);
  });
  const text = JSON.stringify({ code, data } satisfies PlanPackage);
  return { text, hash: contentHash(text) };
}

/**
 * Opens a package that came with `hash`: refuses one whose text does not hash to it, and turns
 * its tables into shared memory for this process's load workers (one copy for all of them).
 */
export function openPlan(text: string, hash: string): { code: string; data: SharedTable[] } {
  const actual = contentHash(text);
  if (actual !== hash) {
    throw new Error(
      `its content hash is ${actual.slice(0, 12)}…, the coordinator sent ${hash.slice(0, 12)}…`,
    );
  }
  const plan = JSON.parse(text) as PlanPackage;
  return { code: plan.code, data: plan.data.map(unpackTable) };
}

function toShared(base64: string): SharedArrayBuffer {
  const bytes = Buffer.from(base64, "base64");
  const shared = new SharedArrayBuffer(bytes.length);
  new Uint8Array(shared).set(bytes);
  return shared;
}

function unpackTable(table: PackedTable): SharedTable {
  return {
    name: table.name,
    order: table.order,
    rows: table.rows,
    bytes: toShared(table.bytes),
    offsets: toShared(table.offsets),
    counter: new SharedArrayBuffer(8),
  };
}
