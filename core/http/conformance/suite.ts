// The engine conformance suite's harness: a client on one engine with the stats it records into,
// the outcome of an exchange (response and stats), and the rule every case follows: the engine
// under test gives the same outcome as the reference engine, fetch (Deno's own HTTP stack).
import assert from "node:assert/strict";
import { createHttpClientFactory } from "../client.ts";
import type { HttpEngineName } from "../engine.ts";
import type { HttpClient, HttpResponse } from "../types.ts";
import { RequestStats } from "../../stats/request_stats.ts";
import { sha256 } from "./servers.ts";

/** Every engine the suite runs on. */
export const ENGINES: HttpEngineName[] = ["h1", "fetch"];
/** The engine every other one is compared with. */
export const REFERENCE_ENGINE: HttpEngineName = "fetch";

/** A client on one engine, with the stats it records into. */
export interface EngineClient {
  http: HttpClient;
  stats: RequestStats;
  close(): void;
}

/** Client options a case may set. */
export interface ClientOptions {
  timeoutMs?: number;
  insecure?: boolean;
}

export function clientOf(
  engine: HttpEngineName,
  host: string,
  options: ClientOptions = {},
): EngineClient {
  const stats = new RequestStats();
  const abort = new AbortController();
  const http = createHttpClientFactory(stats, {
    host,
    timeoutMs: options.timeoutMs ?? 5_000,
    headers: {},
    engine,
    insecure: options.insecure ?? false,
  })(abort.signal);
  return {
    http,
    stats,
    close: () => {
      http.close();
      abort.abort();
    },
  };
}

/** What a case compares between engines: the response and what the stats recorded. */
export interface Outcome {
  status: number;
  error: string | null;
  headers: [string, string][];
  body: string;
  url: string;
  recorded: unknown;
}

/** Headers that differ by time or by the connection, not by the engine. */
const VOLATILE = new Set(["date", "keep-alive", "connection", "last-modified", "etag"]);

/** The outcome of `res`, with what `client`'s stats recorded since they were last taken. */
export async function outcomeOf(client: EngineClient, res: HttpResponse): Promise<Outcome> {
  const headers = [...res.headers].filter(([name]) => !VOLATILE.has(name));
  let body: string;
  try {
    const bytes = await res.bytes();
    body = bytes.length > 4096
      ? `${bytes.length} bytes, sha256 ${await sha256(bytes)}`
      : new TextDecoder().decode(bytes);
  } catch (error) {
    body = `unreadable: ${(error as Error).message.replace(/ of \S+:/, ":")}`;
  }
  // h1 counts a compressed body's bytes as they came, fetch as it decoded them.
  const encoded = res.headers.has("content-encoding");
  const recorded = client.stats.takeDelta().endpoints.map((e) => ({
    method: e.method,
    name: e.name,
    cells: e.cells.map((c) => ({
      status: c.status,
      failed: c.failed,
      requests: c.requests,
      bytes: encoded ? "encoded" : c.bytes,
    })),
    errors: e.errors,
    aborted: e.aborted,
  }));
  return { status: res.status, error: res.error, headers, body, url: res.url, recorded };
}

/** An exchange a case makes on a fresh client, returning its outcome. */
export type Exchange = (client: EngineClient, engine: HttpEngineName) => Promise<Outcome>;

async function outcomeOn(
  engine: HttpEngineName,
  host: string,
  exchange: Exchange,
  options: ClientOptions,
): Promise<Outcome> {
  const client = clientOf(engine, host, options);
  try {
    return await exchange(client, engine);
  } finally {
    client.close();
  }
}

/**
 * Runs `exchange` on `engine` and returns its outcome; on any engine but the reference, runs it
 * on the reference engine too and asserts both outcomes are equal.
 */
export async function conformingOutcome(
  engine: HttpEngineName,
  host: string,
  exchange: Exchange,
  options: ClientOptions = {},
): Promise<Outcome> {
  const actual = await outcomeOn(engine, host, exchange, options);
  if (engine !== REFERENCE_ENGINE) {
    const expected = await outcomeOn(REFERENCE_ENGINE, host, exchange, options);
    assert.deepEqual(
      actual,
      expected,
      `${engine} (actual) and ${REFERENCE_ENGINE} (expected) differ`,
    );
  }
  return actual;
}
