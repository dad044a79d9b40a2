// Decodes OTLP trace exports (ExportTraceServiceRequest) for the test receiver, with protobufjs
// and the opentelemetry-proto definitions in tests/fixtures/otel/: protobuf bodies as they are,
// JSON bodies (ids in hex, as OTLP/JSON writes them) read into the same message type. Shares no
// code with the exporter under test.
import protobuf from "protobufjs";
import { attributes, type AttributeValue, type Plain } from "./otlp_attributes.ts";

const PROTO_DIR = new URL("./fixtures/otel/opentelemetry/proto/", import.meta.url);
const PROTO_FILES = [
  "common/v1/common.proto",
  "resource/v1/resource.proto",
  "trace/v1/trace.proto",
  "collector/trace/v1/trace_service.proto",
];

let requestType: protobuf.Type | null = null;

function traceRequestType(): protobuf.Type {
  if (requestType) return requestType;
  const root = new protobuf.Root();
  for (const file of PROTO_FILES) {
    protobuf.parse(Deno.readTextFileSync(new URL(file, PROTO_DIR)), root, { keepCase: false });
  }
  root.resolveAll();
  requestType = root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest");
  return requestType;
}

/** One exported span, ids in lower-case hex. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** "" for a root. */
  parentSpanId: string;
  traceState: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 3 client. */
  kind: number;
  startTimeUnixNano: number;
  endTimeUnixNano: number;
  attributes: Record<string, AttributeValue>;
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  resource: Record<string, AttributeValue>;
  scope: string;
  contentType: string;
}

const base64ToHex = (b64: string | undefined) =>
  b64 ? [...atob(b64)].map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("") : "";

const hexToBase64 = (hex: string | undefined) =>
  hex ? btoa(String.fromCharCode(...hex.match(/../g)!.map((h) => parseInt(h, 16)))) : "";

/** OTLP/JSON writes ids in hex; protobufjs reads bytes from base64. */
function jsonIdsToBase64(json: Plain): Plain {
  for (const rs of json.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        span.traceId = hexToBase64(span.traceId);
        span.spanId = hexToBase64(span.spanId);
        if (span.parentSpanId) span.parentSpanId = hexToBase64(span.parentSpanId);
      }
    }
  }
  return json;
}

/** Decodes an ExportTraceServiceRequest body (`application/x-protobuf` or `application/json`). */
export function decodeTraceRequest(body: Uint8Array, contentType: string): ReceivedSpan[] {
  const type = traceRequestType();
  const message = contentType.startsWith("application/json")
    ? type.fromObject(jsonIdsToBase64(JSON.parse(new TextDecoder().decode(body))))
    : type.decode(body);
  const plain: Plain = type.toObject(message, {
    longs: String,
    enums: Number,
    bytes: String,
    defaults: false,
    arrays: true,
  });
  const spans: ReceivedSpan[] = [];
  for (const rs of plain.resourceSpans ?? []) {
    const resource = attributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          traceId: base64ToHex(s.traceId),
          spanId: base64ToHex(s.spanId),
          parentSpanId: base64ToHex(s.parentSpanId),
          traceState: s.traceState ?? "",
          name: s.name,
          kind: Number(s.kind ?? 0),
          startTimeUnixNano: Number(s.startTimeUnixNano ?? 0),
          endTimeUnixNano: Number(s.endTimeUnixNano ?? 0),
          attributes: attributes(s.attributes),
          status: { code: Number(s.status?.code ?? 0), message: s.status?.message ?? "" },
          resource,
          scope: ss.scope?.name ?? "",
          contentType,
        });
      }
    }
  }
  return spans;
}
