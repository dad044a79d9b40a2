import assert from "node:assert/strict";
import { UsageError } from "../../core/errors.ts";
import {
  DEFAULT_BOUNDARIES_S,
  DEFAULT_EXPORT_TIMEOUT_MS,
  DEFAULT_INTERVAL_MS,
  parseKeyValueList,
  resolveOtelConfig,
} from "./config.ts";

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("with nothing set: protobuf to localhost:4318, cumulative, explicit, 10 s", () => {
  const config = resolveOtelConfig({}, envOf({}));
  assert.deepEqual(config, {
    url: "http://localhost:4318/v1/metrics",
    protocol: "http/protobuf",
    headers: {},
    timeoutMs: DEFAULT_EXPORT_TIMEOUT_MS,
    intervalMs: DEFAULT_INTERVAL_MS,
    temporality: "cumulative",
    histogram: "explicit",
    boundariesS: DEFAULT_BOUNDARIES_S,
    serviceName: "stampede",
    resourceAttributes: {},
  });
});

Deno.test("OTEL_* variables configure everything the specification names", () => {
  const config = resolveOtelConfig(
    {},
    envOf({
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://otlp.example:4318/base/",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20abc, x-team = load ",
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: "x-team=perf",
      OTEL_EXPORTER_OTLP_TIMEOUT: "2500",
      OTEL_METRIC_EXPORT_INTERVAL: "5000",
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: "Delta",
      OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION:
        "base2_exponential_bucket_histogram",
      OTEL_SERVICE_NAME: "checkout-load",
      OTEL_RESOURCE_ATTRIBUTES: "service.name=ignored,deployment.environment.name=staging",
    }),
  );
  assert.equal(config.url, "https://otlp.example:4318/base/v1/metrics");
  assert.equal(config.protocol, "http/json");
  assert.deepEqual(config.headers, { authorization: "Bearer abc", "x-team": "perf" });
  assert.equal(config.timeoutMs, 2500);
  assert.equal(config.intervalMs, 5000);
  assert.equal(config.temporality, "delta");
  assert.equal(config.histogram, "exponential");
  assert.equal(config.serviceName, "checkout-load");
  assert.equal(config.resourceAttributes["deployment.environment.name"], "staging");
});

Deno.test("the metrics-specific endpoint is used as is; service.name may come from resource", () => {
  const config = resolveOtelConfig(
    {},
    envOf({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://ignored:4318",
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "http://collector:9999/custom/path",
      OTEL_RESOURCE_ATTRIBUTES: "service.name=from-resource",
    }),
  );
  assert.equal(config.url, "http://collector:9999/custom/path");
  assert.equal(config.serviceName, "from-resource");
});

Deno.test("flags win over OTEL_* variables", () => {
  const config = resolveOtelConfig(
    {
      otelEndpoint: "http://127.0.0.1:4318",
      otelProtocol: "http/json",
      otelInterval: "2s",
      otelHistogram: "exponential",
      otelBuckets: "0.1, 0.5,2",
    },
    envOf({
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "http://collector:4318/v1/metrics",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      OTEL_METRIC_EXPORT_INTERVAL: "60000",
      OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: "explicit_bucket_histogram",
    }),
  );
  assert.equal(config.url, "http://127.0.0.1:4318/v1/metrics");
  assert.equal(config.protocol, "http/json");
  assert.equal(config.intervalMs, 2000);
  assert.equal(config.histogram, "exponential");
  assert.deepEqual(config.boundariesS, [0.1, 0.5, 2]);
  const full = resolveOtelConfig({ otelEndpoint: "http://h:1/v1/metrics" }, envOf({}));
  assert.equal(full.url, "http://h:1/v1/metrics", "a full metrics URL is kept");
});

Deno.test("bad values fail before the run, naming the flag or variable", () => {
  const cases: [Record<string, unknown>, Record<string, string>, RegExp][] = [
    [{}, { OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }, /OTEL_EXPORTER_OTLP_PROTOCOL "grpc".*4318/],
    [{ otelProtocol: "http" }, {}, /--otel-protocol "http"/],
    [{ otelEndpoint: "not a url" }, {}, /--otel-endpoint "not a url/],
    [{}, { OTEL_EXPORTER_OTLP_ENDPOINT: "ftp://x" }, /only http/],
    [{}, { OTEL_EXPORTER_OTLP_TIMEOUT: "soon" }, /OTEL_EXPORTER_OTLP_TIMEOUT "soon"/],
    [{}, { OTEL_METRIC_EXPORT_INTERVAL: "0" }, /OTEL_METRIC_EXPORT_INTERVAL "0"/],
    [{ otelInterval: "10ms" }, {}, /--otel-interval.*>= 100ms/],
    [{}, { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: "x" }, /cumulative, delta/],
    [{ otelHistogram: "native" }, {}, /--otel-histogram "native"/],
    [{ otelBuckets: "1,0.5" }, {}, /--otel-buckets "1,0.5": expected ascending/],
    [{}, { OTEL_EXPORTER_OTLP_HEADERS: "token" }, /OTEL_EXPORTER_OTLP_HEADERS "token"/],
  ];
  for (const [options, env, message] of cases) {
    assert.throws(
      () => resolveOtelConfig(options, envOf(env)),
      (error: unknown) => error instanceof UsageError && message.test(error.message),
      `${JSON.stringify(options)} ${JSON.stringify(env)}`,
    );
  }
});

Deno.test("key=value lists are percent-decoded and skip empty items", () => {
  assert.deepEqual(parseKeyValueList("a=1,,b=x%2Cy, c = %zz ", "X"), {
    a: "1",
    b: "x,y",
    c: "%zz",
  });
});
