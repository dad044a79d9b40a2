// A test OTLP/HTTP receiver of metrics and traces on 127.0.0.1. It decodes protobuf and JSON bodies with
// protobufjs and the opentelemetry-proto definitions in tests/fixtures/otel/, sharing no code
// with the exporter under test.
import protobuf from "protobufjs";
import { attributes, type AttributeValue, type Plain } from "./otlp_attributes.ts";
import { decodeTraceRequest, type ReceivedSpan } from "./otlp_traces.ts";

export type { AttributeValue };

const PROTO_DIR = new URL("./fixtures/otel/opentelemetry/proto/", import.meta.url);
const PROTO_FILES = [
  "common/v1/common.proto",
  "resource/v1/resource.proto",
  "metrics/v1/metrics.proto",
  "collector/metrics/v1/metrics_service.proto",
];

let requestType: protobuf.Type | null = null;

/** The ExportMetricsServiceRequest message type, parsed once from the .proto files. */
export function exportRequestType(): protobuf.Type {
  if (requestType) return requestType;
  const root = new protobuf.Root();
  for (const file of PROTO_FILES) {
    protobuf.parse(Deno.readTextFileSync(new URL(file, PROTO_DIR)), root, { keepCase: false });
  }
  root.resolveAll();
  requestType = root.lookupType(
    "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest",
  );
  return requestType;
}

/** An attribute value as OTLP's AnyValue carries it, flattened. */

/** One data point of any metric type, with the fields the tests look at. */
export interface ReceivedPoint {
  attributes: Record<string, AttributeValue>;
  startTimeUnixNano: number;
  timeUnixNano: number;
  /** Sum and gauge points. */
  value?: number;
  /** Histogram points. */
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
  /** Exponential histogram points. */
  scale?: number;
  zeroCount?: number;
  positive?: { offset: number; bucketCounts: number[] };
}

/** One metric of one export. */
export interface ReceivedMetric {
  name: string;
  unit: string;
  description: string;
  type: "sum" | "gauge" | "histogram" | "exponentialHistogram";
  /** 1: delta, 2: cumulative (OTLP's AggregationTemporality); 0 for gauges. */
  temporality: number;
  isMonotonic?: boolean;
  points: ReceivedPoint[];
}

/** One decoded export request. */
export interface ReceivedExport {
  contentType: string;
  headers: Headers;
  resource: Record<string, AttributeValue>;
  scopes: { name: string; version: string }[];
  metrics: ReceivedMetric[];
}

const num = (v: unknown): number => (v === undefined || v === null ? 0 : Number(v));
const optional = (v: unknown): number | undefined =>
  v === undefined || v === null ? undefined : Number(v);

function point(p: Plain): ReceivedPoint {
  const out: ReceivedPoint = {
    attributes: attributes(p.attributes),
    startTimeUnixNano: num(p.startTimeUnixNano),
    timeUnixNano: num(p.timeUnixNano),
  };
  if (p.asInt !== undefined && p.asInt !== null) out.value = Number(p.asInt);
  if (p.asDouble !== undefined && p.asDouble !== null) out.value = Number(p.asDouble);
  if (p.count !== undefined) out.count = num(p.count);
  if (p.sum !== undefined) out.sum = optional(p.sum);
  if (p.min !== undefined) out.min = optional(p.min);
  if (p.max !== undefined) out.max = optional(p.max);
  if (p.bucketCounts) out.bucketCounts = p.bucketCounts.map(Number);
  if (p.explicitBounds) out.explicitBounds = p.explicitBounds.map(Number);
  if (p.scale !== undefined) out.scale = num(p.scale);
  if (p.zeroCount !== undefined) out.zeroCount = num(p.zeroCount);
  if (p.positive) {
    out.positive = {
      offset: num(p.positive.offset),
      bucketCounts: (p.positive.bucketCounts ?? []).map(Number),
    };
  }
  return out;
}

function metric(m: Plain): ReceivedMetric {
  const base = { name: m.name, unit: m.unit ?? "", description: m.description ?? "" };
  if (m.sum) {
    return {
      ...base,
      type: "sum",
      temporality: num(m.sum.aggregationTemporality),
      isMonotonic: Boolean(m.sum.isMonotonic),
      points: (m.sum.dataPoints ?? []).map(point),
    };
  }
  if (m.gauge) {
    return {
      ...base,
      type: "gauge",
      temporality: 0,
      points: (m.gauge.dataPoints ?? []).map(point),
    };
  }
  if (m.histogram) {
    return {
      ...base,
      type: "histogram",
      temporality: num(m.histogram.aggregationTemporality),
      points: (m.histogram.dataPoints ?? []).map(point),
    };
  }
  if (m.exponentialHistogram) {
    return {
      ...base,
      type: "exponentialHistogram",
      temporality: num(m.exponentialHistogram.aggregationTemporality),
      points: (m.exponentialHistogram.dataPoints ?? []).map(point),
    };
  }
  throw new Error(`Cannot decode metric "${m.name}": no data of a known type`);
}

const TO_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  enums: Number,
  bytes: String,
  defaults: false,
  arrays: true,
  oneofs: false,
};

/**
 * Decodes an ExportMetricsServiceRequest body: `application/x-protobuf` with protobufjs, or
 * `application/json` (OTLP/JSON: lowerCamelCase names, 64-bit integers as strings) read into
 * the same message type.
 */
export function decodeExportRequest(
  body: Uint8Array,
  contentType: string,
): Omit<ReceivedExport, "contentType" | "headers">[] {
  const type = exportRequestType();
  let message: protobuf.Message;
  if (contentType.startsWith("application/json")) {
    const json = JSON.parse(new TextDecoder().decode(body));
    message = type.fromObject(json);
  } else {
    message = type.decode(body);
  }
  const plain: Plain = type.toObject(message, TO_OBJECT);
  return (plain.resourceMetrics ?? []).map((rm: Plain) => ({
    resource: attributes(rm.resource?.attributes),
    scopes: (rm.scopeMetrics ?? []).map((sm: Plain) => ({
      name: sm.scope?.name ?? "",
      version: sm.scope?.version ?? "",
    })),
    metrics: (rm.scopeMetrics ?? []).flatMap((sm: Plain) => (sm.metrics ?? []).map(metric)),
  }));
}

/** How the receiver answers: a status code, or a delay before 200. */
export interface ReceiverBehaviour {
  status?: number;
  delayMs?: number;
}

/** A running receiver. */
export interface OtlpReceiver {
  /** Base URL, e.g. `http://127.0.0.1:4318` (append `/v1/metrics` for the metrics endpoint). */
  url: string;
  /** Every decoded export, in arrival order (including those answered with an error). */
  exports: ReceivedExport[];
  /** Every span of every trace export (`/v1/traces`), in arrival order. */
  spans: ReceivedSpan[];
  /** Requests received, decodable or not. */
  requests: number;
  /** Bodies that could not be decoded, with why. */
  errors: string[];
  shutdown(): Promise<void>;
}

/** Starts an OTLP/HTTP receiver of metrics and traces on 127.0.0.1, port 0. */
export function startOtlpReceiver(behaviour: ReceiverBehaviour = {}): OtlpReceiver {
  const receiver: OtlpReceiver = {
    url: "",
    exports: [],
    spans: [],
    requests: 0,
    errors: [],
    shutdown: () => Promise.resolve(),
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    receiver.requests++;
    const body = new Uint8Array(await req.arrayBuffer());
    const path = new URL(req.url).pathname;
    if (path !== "/v1/metrics" && path !== "/v1/traces") {
      receiver.errors.push(`unexpected path ${path}`);
      return new Response("not found", { status: 404 });
    }
    const contentType = req.headers.get("content-type") ?? "";
    try {
      if (path === "/v1/traces") {
        if (behaviour.status === undefined || behaviour.status === 200) {
          receiver.spans.push(...decodeTraceRequest(body, contentType));
        }
      } else {
        for (const decoded of decodeExportRequest(body, contentType)) {
          receiver.exports.push({ ...decoded, contentType, headers: req.headers });
        }
      }
    } catch (error) {
      receiver.errors.push(String(error));
      return new Response("bad request", { status: 400 });
    }
    if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs));
    const status = behaviour.status ?? 200;
    if (status !== 200) return new Response("unavailable", { status });
    const ok = contentType.startsWith("application/json") ? "{}" : new Uint8Array();
    return new Response(ok, { status: 200, headers: { "content-type": contentType } });
  });
  receiver.url = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  receiver.shutdown = () => server.shutdown();
  return receiver;
}

/** The metrics named `name` across every export, in arrival order. */
export function metricsNamed(exports: ReceivedExport[], name: string): ReceivedMetric[] {
  return exports.flatMap((e) => e.metrics.filter((m) => m.name === name));
}

/**
 * The latest point of each attribute set of cumulative metric `name`: what a backend shows at
 * the end. Keys are the attributes as JSON.
 */
export function latestPoints(exports: ReceivedExport[], name: string): Map<string, ReceivedPoint> {
  const latest = new Map<string, ReceivedPoint>();
  for (const m of metricsNamed(exports, name)) {
    for (const p of m.points) {
      const key = JSON.stringify(Object.entries(p.attributes).sort());
      const prior = latest.get(key);
      if (!prior || p.timeUnixNano >= prior.timeUnixNano) latest.set(key, p);
    }
  }
  return latest;
}
