// Data feeders: a plan declares a data file once (a CSV with a header row, or a JSON array);
// the coordinator reads it once and every user gets rows from it in the declared order.
/**
 * How users get rows: `circular` (the next row, back to the first after the last), `random`
 * (any row, each time), `unique` (each row once in the whole run, across load workers; a user
 * that asks when none is left ends, as with `StopUser`).
 */
export type DataOrder = "circular" | "random" | "unique";

/** The orders a data feed can have. */
export const DATA_ORDERS: readonly DataOrder[] = ["circular", "random", "unique"];

/** How a data file is read. */
export interface DataOptions {
  /** Default `circular`. */
  order?: DataOrder;
}

/** A data file a plan declares (`csv(...)` or `json(...)`); read by the coordinator, once. */
export interface DataSource {
  readonly kind: "csv" | "json";
  /** The file: a path relative to the plan module's folder, an absolute path or a file URL. */
  readonly path: string | URL;
  readonly order: DataOrder;
}

/** What a task reads rows from: `ctx.data.<name>`. Rows are shared, never copied per user. */
export interface DataFeed {
  /** How many rows the file has. */
  readonly length: number;
  /** The next row in the feed's order (a CSV row is `{ column: "value" }`). */
  next<Row = Record<string, string>>(): Row;
  /** Row `index` (0 … length - 1), e.g. `at(ctx.user.index % length)`. */
  at<Row = Record<string, string>>(index: number): Row;
}

const SOURCE = Symbol.for("stampede.data.source");

function source(kind: "csv" | "json", path: string | URL, options: DataOptions): DataSource {
  return Object.freeze({ kind, path, order: options.order ?? "circular", [SOURCE]: true });
}

/**
 * A CSV file with a header row: each row is an object keyed by the header's column names.
 *
 * @example Accounts given out once each
 * ```ts
 * import { csv, definePlan } from "./mod.ts";
 *
 * export default definePlan({
 *   host: "http://127.0.0.1:8000",
 *   data: { accounts: csv("accounts.csv", { order: "unique" }) },
 *   users: {
 *     shopper: {
 *       onStart: ({ http, data }) => http.post("/login", { json: data.accounts.next() }),
 *       tasks: { browse: ({ http }) => http.get("/products") },
 *     },
 *   },
 * });
 * ```
 */
export function csv(path: string | URL, options: DataOptions = {}): DataSource {
  return source("csv", path, options);
}

/** A JSON file holding an array: each element is a row. */
export function json(path: string | URL, options: DataOptions = {}): DataSource {
  return source("json", path, options);
}

/** Whether `value` came from `csv()` or `json()`. */
export function isDataSource(value: unknown): value is DataSource {
  return typeof value === "object" && value !== null &&
    (value as Record<symbol, unknown>)[SOURCE] === true;
}
