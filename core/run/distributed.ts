// A distributed run's settings: where the coordinator listens, how many worker processes it waits
// for and how long, the token they need, TLS, and the heartbeat tolerance. Resolved once, before
// the plan loads, so a bad flag fails at once.
import { parseDuration } from "../duration.ts";
import { describeError, PlanError, UsageError } from "../errors.ts";
import type { SharedTable } from "./data_table.ts";

/** The coordinator's options of a distributed run (`--coordinator` and its flags). */
export interface DistributedOptions {
  /** Where workers connect, `HOST:PORT` (default `127.0.0.1:7400`: this machine only). */
  listen?: string;
  /** Worker processes (`stampede worker`) to wait for; the run starts when all joined. */
  expectWorkers: number;
  /** How long to wait for them: `60s` (default), `5m`, or ms. */
  expectTimeout?: string | number;
  /** The secret every worker must present; required. */
  token?: string;
  /** PEM certificate chain and private key files: workers then connect with wss://. */
  tlsCert?: string;
  tlsKey?: string;
  /** A worker process (or the coordinator, to a worker) silent for this long is gone (default 10s). */
  heartbeatTimeout?: string | number;
}

/** {@link DistributedOptions}, checked and resolved. */
export interface DistributedSettings {
  hostname: string;
  port: number;
  token: string;
  tls?: { cert: string; key: string };
  expectWorkers: number;
  expectTimeoutMs: number;
  toleranceMs: number;
}

/** Where a coordinator listens unless told: loopback, so nothing off this machine can join. */
export const DEFAULT_LISTEN = "127.0.0.1:7400";
const DEFAULT_EXPECT_TIMEOUT = "60s";
const DEFAULT_HEARTBEAT_TIMEOUT = "10s";
/** The most worker processes one run waits for. */
const MAX_EXPECT_WORKERS = 10_000;
/** The largest message a worker's WebSocket takes (Deno's limit: 64 MiB), less some room. */
const MAX_PLAN_BYTES = 60 * 1024 * 1024;

/** `HOST:PORT` or `[IPv6]:PORT` into its parts. */
export function parseListen(text: string): { hostname: string; port: number } {
  const match = text.trim().match(/^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/);
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    throw new UsageError(
      `Cannot listen on "${text}": give HOST:PORT, such as 127.0.0.1:7400 (this machine only) or 0.0.0.0:7400 (every interface)`,
    );
  }
  return { hostname: match[1] ?? match[2], port };
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (cause) {
    throw new UsageError(`Cannot read ${what} "${path}": ${describeError(cause)}`, { cause });
  }
}

/** Checks a coordinator's options and reads its TLS files; a bad one is a {@link UsageError}. */
export async function resolveDistributed(
  options: DistributedOptions,
): Promise<DistributedSettings> {
  const expectWorkers = options.expectWorkers;
  if (!Number.isInteger(expectWorkers) || expectWorkers < 1 || expectWorkers > MAX_EXPECT_WORKERS) {
    throw new UsageError(
      `Cannot run as coordinator: --expect-workers "${expectWorkers}" must be a whole number from 1 to ${MAX_EXPECT_WORKERS}`,
    );
  }
  const token = options.token ?? "";
  if (token.trim() === "") {
    throw new UsageError(
      "Cannot run as coordinator without a token: set --token or STAMPEDE_TOKEN to a secret that the workers get too (e.g. openssl rand -hex 32)",
    );
  }
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    throw new UsageError("Cannot serve workers over TLS: give both --tls-cert and --tls-key");
  }
  const tls = options.tlsCert !== undefined && options.tlsKey !== undefined
    ? {
      cert: await readPem(options.tlsCert, "TLS certificate"),
      key: await readPem(options.tlsKey, "TLS key"),
    }
    : undefined;
  const toleranceMs = parseDuration(
    options.heartbeatTimeout ?? DEFAULT_HEARTBEAT_TIMEOUT,
    "heartbeat timeout",
  );
  if (toleranceMs < 250) {
    throw new UsageError(
      `Cannot use heartbeat timeout "${options.heartbeatTimeout}": it must be at least 250ms`,
    );
  }
  return {
    ...parseListen(options.listen ?? DEFAULT_LISTEN),
    token,
    tls,
    expectWorkers,
    expectTimeoutMs: parseDuration(
      options.expectTimeout ?? DEFAULT_EXPECT_TIMEOUT,
      "expect timeout",
    ),
    toleranceMs,
  };
}

/**
 * Fails when the plan's code and data would not fit in the one message that takes them to a
 * worker process (base64 makes data a third larger).
 */
export function checkPlanSize(planUrl: string, code: string, data: readonly SharedTable[]): void {
  const dataBytes = data.reduce((n, t) => n + t.bytes.byteLength + t.offsets.byteLength, 0);
  const bytes = new TextEncoder().encode(code).length + Math.ceil((dataBytes * 4) / 3);
  if (bytes > MAX_PLAN_BYTES) {
    throw new PlanError(
      `Cannot send plan "${planUrl}" to workers: its code and data come to ${
        Math.round(bytes / 1024 / 1024)
      } MB as sent, more than the ${
        MAX_PLAN_BYTES / 1024 / 1024
      } MB one message to a worker may hold; make its data files smaller`,
    );
  }
}
