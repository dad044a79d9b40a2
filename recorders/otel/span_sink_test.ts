import assert from "node:assert/strict";
import { ROOT_CONTEXT, SpanKind } from "npm:@opentelemetry/api@1.10.0";
import { SamplingDecision } from "npm:@opentelemetry/sdk-trace@3.1.0";
import type { RunInfo } from "../../core/run_info.ts";
import type { FinishedSpan, SinkTraceId } from "../../core/span_sink.ts";
import { RandomIds, TraceId } from "../../core/http/trace_context.ts";
import { createSampler, OtlpSpanSink } from "./span_sink.ts";
import { SAMPLER_NAMES, type SamplerName, type TraceConfig } from "./trace_config.ts";

/** A sink with `sampler`, exporting nowhere (nothing is added here). */
function sinkWith(name: SamplerName, ratio: number): OtlpSpanSink {
  const config = {
    url: "http://127.0.0.1:9/v1/traces",
    protocol: "http/protobuf",
    headers: {},
    timeoutMs: 1000,
    sampler: { name, ratio },
    batch: {
      maxQueueSize: 10,
      maxExportBatchSize: 10,
      scheduledDelayMs: 1000,
      exportTimeoutMs: 1000,
    },
  } as unknown as TraceConfig;
  const exporter = {
    export: (_: unknown, done: (r: { code: number }) => void) => done({ code: 0 }),
    shutdown: () => Promise.resolve(),
  };
  return new OtlpSpanSink(config, { runId: "r", version: "0" } as RunInfo, () => {}, exporter);
}

Deno.test("the sink decides as the SDK's sampler does for the same trace id, whatever the sampler", async () => {
  const ids = new RandomIds();
  const edge: SinkTraceId[] = [
    new TraceId(0, 0, 0, 1),
    new TraceId(0xffffffff, 0, 0, 0),
    new TraceId(0x80000000, 0x7fffffff, 0, 0),
    new TraceId(0x028f5c28, 0, 0, 0), // just under 0.01 of 2^32 - 1
    new TraceId(0x028f5c29, 0, 0, 0),
  ];
  for (const name of SAMPLER_NAMES) {
    for (const ratio of [0, 0.01, 0.5, 0.999, 1]) {
      const sink = sinkWith(name, ratio);
      const sdk = createSampler({ name, ratio });
      let kept = 0;
      const all = [...edge, ...Array.from({ length: 4000 }, () => ids.traceId())];
      for (const id of all) {
        const expected = sdk.shouldSample(ROOT_CONTEXT, id.hex, "task", SpanKind.INTERNAL, {}, [])
          .decision === SamplingDecision.RECORD_AND_SAMPLED;
        assert.equal(sink.sampled(id, "task"), expected, `${name} ${ratio} ${id.hex}`);
        if (expected) kept++;
      }
      if (name.endsWith("traceidratio") && ratio > 0 && ratio < 1) {
        // And the ratio is what was asked for, roughly.
        assert.ok(Math.abs(kept / all.length - ratio) < 0.05, `${name} ${ratio}: ${kept}`);
      }
      await sink.close(100);
    }
  }
});

Deno.test("a span added to a closed sink is dropped, not exported", async () => {
  const sink = sinkWith("always_on", 1);
  await sink.close(100);
  sink.add({} as FinishedSpan);
  assert.equal(sink.stats.added, 0);
});
