import assert from "node:assert/strict";
import { UsageError } from "../../core/errors.ts";
import { resolveTraceConfig } from "./trace_config.ts";

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("traces are off unless --traces or OTEL_TRACES_EXPORTER=otlp", () => {
  assert.equal(resolveTraceConfig({}, envOf({})), null);
  assert.equal(resolveTraceConfig({}, envOf({ OTEL_TRACES_EXPORTER: "none" })), null);
  assert.notEqual(resolveTraceConfig({}, envOf({ OTEL_TRACES_EXPORTER: "otlp" })), null);
  assert.notEqual(resolveTraceConfig({ traces: true }, envOf({})), null);
  // The flag wins over the variable both ways.
  assert.equal(
    resolveTraceConfig({ traces: false }, envOf({ OTEL_TRACES_EXPORTER: "otlp" })),
    null,
  );
});

Deno.test("the endpoint follows the metrics' rules with the traces' own variables", () => {
  const url = (options: Record<string, string>, env: Record<string, string>) =>
    resolveTraceConfig({ traces: true, ...options }, envOf(env))!.url;
  assert.equal(url({}, {}), "http://localhost:4318/v1/traces");
  assert.equal(
    url({}, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }),
    "http://c:4318/v1/traces",
  );
  assert.equal(
    url({}, {
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t:9/custom",
    }),
    "http://t:9/custom",
  );
  assert.equal(
    url({ traceEndpoint: "http://f:4318/" }, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t:9" }),
    "http://f:4318/v1/traces",
  );
  assert.equal(url({ traceEndpoint: "http://f:4318/v1/traces" }, {}), "http://f:4318/v1/traces");
});

Deno.test("protocol, headers and timeout: the traces' variables win over the general ones", () => {
  const config = resolveTraceConfig(
    { traces: true },
    envOf({
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_HEADERS: "a=1,b=2",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "b=3",
      OTEL_EXPORTER_OTLP_TIMEOUT: "5000",
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "700",
      OTEL_SERVICE_NAME: "loadgen",
    }),
  )!;
  assert.equal(config.protocol, "http/json");
  assert.deepEqual(config.headers, { a: "1", b: "3" });
  assert.equal(config.timeoutMs, 700);
  assert.equal(config.serviceName, "loadgen");
});

Deno.test("the sampler: --trace-sample-ratio, else OTEL_TRACES_SAMPLER and its argument", () => {
  const sampler = (options: Record<string, unknown>, env: Record<string, string> = {}) =>
    resolveTraceConfig({ traces: true, ...options }, envOf(env))!.sampler;
  assert.deepEqual(sampler({}), { name: "parentbased_always_on", ratio: 1 });
  assert.deepEqual(sampler({ traceSampleRatio: "0.25" }), {
    name: "parentbased_traceidratio",
    ratio: 0.25,
  });
  assert.deepEqual(
    sampler({}, { OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.1" }),
    { name: "traceidratio", ratio: 0.1 },
  );
  assert.deepEqual(sampler({}, { OTEL_TRACES_SAMPLER: "parentbased_always_off" }), {
    name: "parentbased_always_off",
    ratio: 0,
  });
  assert.deepEqual(
    sampler({ traceSampleRatio: 1 }, { OTEL_TRACES_SAMPLER: "always_off" }),
    { name: "parentbased_traceidratio", ratio: 1 },
  );
});

Deno.test("bad trace settings are UsageErrors that name the flag or variable", () => {
  const cases: [Record<string, unknown>, Record<string, string>, RegExp][] = [
    [{ traces: true, traceSampleRatio: "2" }, {}, /--trace-sample-ratio "2"/],
    [{ traces: true, traceSampleRatio: "half" }, {}, /--trace-sample-ratio "half"/],
    [{ traceSampleRatio: "0.1" }, {}, /without traces/],
    [{ traceEndpoint: "http://x" }, {}, /--trace-endpoint without traces/],
    [{}, { OTEL_TRACES_EXPORTER: "jaeger" }, /OTEL_TRACES_EXPORTER "jaeger"/],
    [{ traces: true }, { OTEL_TRACES_SAMPLER: "jaeger_remote" }, /OTEL_TRACES_SAMPLER/],
    [{ traces: true }, {
      OTEL_TRACES_SAMPLER: "traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "-1",
    }, /OTEL_TRACES_SAMPLER_ARG "-1"/],
    [{ traces: true }, { OTEL_BSP_MAX_QUEUE_SIZE: "10" }, /OTEL_BSP_MAX_EXPORT_BATCH_SIZE/],
    [{ traces: true }, { OTEL_BSP_SCHEDULE_DELAY: "soon" }, /OTEL_BSP_SCHEDULE_DELAY "soon"/],
    [{ traces: true, traceEndpoint: "not a url" }, {}, /--trace-endpoint "not a url/],
  ];
  for (const [options, env, message] of cases) {
    assert.throws(() => resolveTraceConfig(options, envOf(env)), (error: Error) => {
      assert.ok(error instanceof UsageError, String(error));
      assert.match(error.message, message);
      return true;
    });
  }
});
