// The Prometheus recorder: serves /metrics during the run and for --prometheus-linger after it,
// so the last scrape sees the final values; the families themselves are built in metrics.ts.
import { parseDuration } from "../../core/duration.ts";
import { UsageError } from "../../core/errors.ts";
import type {
  FinalSnapshot,
  IntervalSnapshot,
  LifecycleEvent,
  OutputHandler,
  Recorder,
  RecorderContext,
  RecorderPlugin,
  StopReason,
  SystemSample,
} from "../../core/recorder/types.ts";
import {
  EXPOSITION_CONTENT_TYPE,
  type ExpositionFormat,
  negotiateFormat,
  OPENMETRICS_CONTENT_TYPE,
} from "./exposition.ts";
import {
  type CompatFamilies,
  DEFAULT_BUCKETS_SECONDS,
  DEFAULT_MAX_NAMES,
  PrometheusMetrics,
} from "./metrics.ts";

/** Where the endpoint listens unless told otherwise: the port the Locust exporters use. */
export const DEFAULT_LISTEN = "127.0.0.1:9646";

/** How long the final numbers stay up after the run unless told otherwise. */
export const DEFAULT_LINGER = "3s";

/** The longest linger: the process waits for it before it exits. */
export const MAX_LINGER_MS = 600_000;

/** Paths that serve the exposition: `/metrics`, and the Locust exporters' `/export/prometheus`. */
export const METRICS_PATHS = ["/metrics", "/export/prometheus"];

/** A listen address split into the parts `Deno.serve` takes. */
export interface ListenAddress {
  hostname: string;
  port: number;
}

/**
 * Parses `host:port`, `[v6]:port`, `:port` (all interfaces, as Go servers read it) or a bare
 * `port` (loopback). Port 0 picks a free port.
 */
export function parseListen(input: string): ListenAddress {
  const text = input.trim();
  const m = /^(?:(\[[^\]]*\]|[^:[\]]*):)?(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new UsageError(
      `Cannot use --prometheus-listen "${input}": expected host:port, :port or port, e.g. 127.0.0.1:9646`,
    );
  }
  let hostname = m[1] ?? "127.0.0.1";
  if (hostname === "") hostname = "0.0.0.0";
  if (hostname.startsWith("[")) hostname = hostname.slice(1, -1);
  return { hostname, port };
}

/** Parses a comma-separated list of ascending bucket bounds in seconds. */
export function parseBuckets(input: string | readonly number[]): number[] {
  const list = typeof input === "string"
    ? input.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number)
    : [...input];
  const ascending = list.every((b, i) => i === 0 || b > list[i - 1]);
  if (list.length === 0 || !ascending || list.some((b) => !(b > 0) || !Number.isFinite(b))) {
    throw new UsageError(
      `Cannot use --prometheus-buckets "${input}": expected ascending numbers of seconds > 0, e.g. 0.01,0.05,0.1,0.5,1`,
    );
  }
  return list;
}

/** Parses the linger duration, bounded by {@link MAX_LINGER_MS}. */
export function parseLinger(input: string | number): number {
  const ms = parseDuration(input, "--prometheus-linger");
  if (ms > MAX_LINGER_MS) {
    throw new UsageError(
      `Cannot use --prometheus-linger "${input}": at most ${MAX_LINGER_MS / 60_000}m; ` +
        `a few scrape intervals are enough for the last scrape`,
    );
  }
  return ms;
}

function parseMaxNames(input: string | number): number {
  const n = Number(input);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(
      `Cannot use --prometheus-max-names "${input}": expected a whole number >= 1`,
    );
  }
  return n;
}

function parseCompat(input: string): CompatFamilies {
  if (input === "none" || input === "locust") return input;
  throw new UsageError(`Cannot use --prometheus-compat "${input}": expected none or locust`);
}

function urlHost(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}

/** A running `/metrics` endpoint. */
export interface MetricsServer {
  /** The bound address (the real port when 0 was asked for). */
  readonly address: ListenAddress;
  shutdown(): Promise<void>;
}

/**
 * Serves `render()` at {@link METRICS_PATHS} on `listen`, in OpenMetrics (with exemplars) when
 * the scraper's `Accept` asks for it, else in the text format.
 */
export function serveMetrics(
  listen: ListenAddress,
  render: (format: ExpositionFormat) => string,
): MetricsServer {
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve(
      { hostname: listen.hostname, port: listen.port, onListen: () => {} },
      (req) => {
        const path = new URL(req.url).pathname;
        if (!METRICS_PATHS.includes(path)) {
          return new Response(`Not found; metrics are at ${METRICS_PATHS.join(" and ")}\n`, {
            status: 404,
          });
        }
        if (req.method !== "GET" && req.method !== "HEAD") {
          return new Response("Method not allowed\n", {
            status: 405,
            headers: { allow: "GET, HEAD" },
          });
        }
        const format = negotiateFormat(req.headers.get("accept"));
        return new Response(req.method === "HEAD" ? null : render(format), {
          headers: {
            "content-type": format === "openmetrics"
              ? OPENMETRICS_CONTENT_TYPE
              : EXPOSITION_CONTENT_TYPE,
            vary: "accept",
          },
        });
      },
    );
  } catch (cause) {
    const why = cause instanceof Deno.errors.AddrInUse
      ? "the address is in use"
      : cause instanceof Error
      ? cause.message
      : String(cause);
    throw new UsageError(
      `Cannot listen on "${
        urlHost(listen.hostname)
      }:${listen.port}" for the prometheus recorder: ${why}; ` +
        `pick another with --prometheus-listen (port 0 picks a free one)`,
      { cause },
    );
  }
  const { hostname, port } = server.addr;
  return { address: { hostname, port }, shutdown: () => server.shutdown() };
}

/**
 * Serves the run's metrics for Prometheus to scrape; at the stop it keeps serving the final
 * numbers for `lingerMs`, so the last scrape sees them, then closes.
 */
export class PrometheusRecorder implements Recorder {
  readonly #metrics: PrometheusMetrics;
  readonly #server: MetricsServer;
  readonly #lingerMs: number;

  constructor(metrics: PrometheusMetrics, server: MetricsServer, lingerMs: number) {
    this.#metrics = metrics;
    this.#server = server;
    this.#lingerMs = lingerMs;
    this.output = {
      stopTimeoutMs: lingerMs + 2_000,
      stop: async (_reason: StopReason) => {
        await new Promise((resolve) => setTimeout(resolve, this.#lingerMs));
        await this.#server.shutdown();
      },
    };
  }

  /** Lingers, then closes the server; the run's exit waits for the linger. */
  readonly output: OutputHandler;

  readonly lifecycle = {
    event: (event: LifecycleEvent) => this.#metrics.event(event),
  };

  readonly request = {
    interval: (snapshot: IntervalSnapshot) => this.#metrics.interval(snapshot),
    final: (snapshot: FinalSnapshot) => this.#metrics.final(snapshot),
  };

  readonly system = {
    samples: (samples: SystemSample[]) => this.#metrics.samples(samples),
  };
}

function option(options: Record<string, unknown>, name: string, fallback: string): string {
  const value = options[name];
  return value === undefined || value === null ? fallback : String(value);
}

/** The `prometheus` recorder: a scrape endpoint with the `stampede_*` families. */
export const prometheusRecorder: RecorderPlugin = {
  id: "prometheus",
  description: "serves the run's metrics for Prometheus at /metrics",
  options: [
    {
      flags: "--prometheus-listen <host:port>",
      description: "address of the /metrics endpoint; :PORT or 0.0.0.0:PORT for every interface, " +
        "port 0 for a free one",
      env: "STAMPEDE_PROMETHEUS_LISTEN",
      default: DEFAULT_LISTEN,
    },
    {
      flags: "--prometheus-linger <duration>",
      description: `keep serving the final numbers this long after the run (at most ${
        MAX_LINGER_MS / 1000
      }s)`,
      env: "STAMPEDE_PROMETHEUS_LINGER",
      default: DEFAULT_LINGER,
    },
    {
      flags: "--prometheus-buckets <seconds>",
      description: "bucket bounds of stampede_request_duration_seconds, comma-separated",
      env: "STAMPEDE_PROMETHEUS_BUCKETS",
      default: DEFAULT_BUCKETS_SECONDS.join(","),
    },
    {
      flags: "--prometheus-max-names <n>",
      description: 'distinct request names served as labels; later ones become name="(other)"',
      env: "STAMPEDE_PROMETHEUS_MAX_NAMES",
      default: String(DEFAULT_MAX_NAMES),
    },
    {
      flags: "--prometheus-compat <set>",
      description: "also serve the community locust_* families (none or locust)",
      env: "STAMPEDE_PROMETHEUS_COMPAT",
      default: "none",
    },
  ],
  create(context: RecorderContext): Recorder {
    const options = context.options;
    const listen = parseListen(option(options, "prometheusListen", DEFAULT_LISTEN));
    const lingerMs = parseLinger(option(options, "prometheusLinger", DEFAULT_LINGER));
    const bucketsInput = options.prometheusBuckets;
    const bucketsSeconds = Array.isArray(bucketsInput)
      ? parseBuckets(bucketsInput)
      : parseBuckets(option(options, "prometheusBuckets", DEFAULT_BUCKETS_SECONDS.join(",")));
    const maxNames = parseMaxNames(
      option(options, "prometheusMaxNames", String(DEFAULT_MAX_NAMES)),
    );
    const compat = parseCompat(option(options, "prometheusCompat", "none"));
    const metrics = new PrometheusMetrics({
      run: context.run,
      percentiles: context.percentiles,
      bucketsSeconds,
      maxNames,
      compat,
      warn: (message) => context.stderr.write(`stampede: warning: ${message}\n`),
    });
    const server = serveMetrics(listen, (format) => metrics.render(format));
    const { hostname, port } = server.address;
    context.stderr.write(
      `stampede: prometheus: serving http://${urlHost(hostname)}:${port}/metrics\n`,
    );
    return new PrometheusRecorder(metrics, server, lingerMs);
  },
};
