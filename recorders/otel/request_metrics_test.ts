import assert from "node:assert/strict";
import { emptyResource } from "@opentelemetry/resources";
import {
  AggregationTemporality,
  DataPointType,
  type ExponentialHistogram,
  type Histogram as OtelHistogram,
  type MetricData,
} from "@opentelemetry/sdk-metrics";
import { createHistogram, recordLatencyUs } from "../../core/stats/histogram.ts";
import type { IntervalCell } from "../../core/stats/types.ts";
import { indexAtMaxScale, MAX_SCALE } from "./exponential.ts";
import { RequestMetrics, type RequestMetricsOptions } from "./request_metrics.ts";

function cell(
  method: string,
  name: string,
  status: number,
  failed: boolean,
  latenciesUs: number[] | null,
  requests = latenciesUs?.length ?? 1,
): IntervalCell {
  let histogram = null;
  let sumUs = 0;
  if (latenciesUs) {
    histogram = createHistogram();
    for (const us of latenciesUs) {
      recordLatencyUs(histogram, us);
      sumUs += us;
    }
  }
  return {
    method,
    name,
    status,
    failed,
    requests,
    bytes: requests * 10,
    histogram,
    sumUs,
    minUs: histogram?.minNonZeroValue ?? 0,
    maxUs: histogram?.maxValue ?? 0,
  };
}

function metrics(overrides: Partial<RequestMetricsOptions> = {}): RequestMetrics {
  let now = 1_000_000;
  return new RequestMetrics({
    histogram: "explicit",
    boundariesS: [0.01, 0.1, 1],
    temporality: AggregationTemporality.CUMULATIVE,
    resource: emptyResource(),
    scope: { name: "stampede" },
    nowMs: () => now += 1000,
    ...overrides,
  });
}

async function collected(m: RequestMetrics): Promise<Map<string, MetricData>> {
  const result = await m.collect();
  const out = new Map<string, MetricData>();
  for (const scope of result.resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) out.set(metric.descriptor.name, metric);
  }
  return out;
}

const A_OK = { name: "/a", method: "GET", status_code: 200, outcome: "success" };

Deno.test("explicit buckets, counts and exact sums add up over intervals", async () => {
  const m = metrics();
  m.add([cell("GET", "/a", 200, false, [5_000, 50_000, 10_000])]);
  m.add([cell("GET", "/a", 200, false, [2_000_000, 700])]);
  const out = await collected(m);
  const duration = out.get("stampede.request.duration")!;
  assert.equal(duration.dataPointType, DataPointType.HISTOGRAM);
  assert.equal(duration.descriptor.unit, "s");
  assert.equal(duration.aggregationTemporality, AggregationTemporality.CUMULATIVE);
  assert.equal(duration.dataPoints.length, 1);
  const point = duration.dataPoints[0];
  assert.deepEqual(point.attributes, A_OK);
  const value = point.value as OtelHistogram;
  assert.equal(value.count, 5);
  assert.ok(Math.abs(value.sum! - 2.0657) < 1e-9, String(value.sum));
  assert.deepEqual(value.buckets.boundaries, [0.01, 0.1, 1]);
  // 700 µs, 5 ms and 10 ms (a value equal to a bound is at or below it); 50 ms; none; 2 s.
  assert.deepEqual(value.buckets.counts, [3, 1, 0, 1]);
  assert.ok(Math.abs(value.min! - 0.0007) < 1e-6 && Math.abs(value.max! - 2) < 0.002);
  const requests = out.get("stampede.requests")!;
  assert.equal(requests.dataPointType, DataPointType.SUM);
  assert.equal(requests.dataPoints[0].value, 5);
  assert.equal(out.get("stampede.data.received")!.dataPoints[0].value, 50);
  assert.equal(out.has("stampede.request.failures"), false);
});

Deno.test("cumulative collections keep growing from the same start time", async () => {
  const m = metrics();
  m.add([cell("GET", "/a", 200, false, [1_000])]);
  const first = (await collected(m)).get("stampede.requests")!.dataPoints[0];
  m.add([cell("GET", "/a", 200, false, [1_000, 2_000])]);
  const second = (await collected(m)).get("stampede.requests")!.dataPoints[0];
  assert.equal(first.value, 1);
  assert.equal(second.value, 3);
  assert.deepEqual(second.startTime, first.startTime);
  assert.ok(second.endTime[0] > first.endTime[0]);
});

Deno.test("delta collections hold only what came since the last one", async () => {
  const m = metrics({ temporality: AggregationTemporality.DELTA });
  m.add([cell("GET", "/a", 200, false, [1_000, 3_000])]);
  const first = (await collected(m)).get("stampede.request.duration")!;
  m.add([cell("GET", "/a", 200, false, [1_000])]);
  const second = (await collected(m)).get("stampede.request.duration")!;
  assert.equal(first.aggregationTemporality, AggregationTemporality.DELTA);
  assert.equal((first.dataPoints[0].value as OtelHistogram).count, 2);
  assert.equal((second.dataPoints[0].value as OtelHistogram).count, 1);
  assert.deepEqual(second.dataPoints[0].startTime, first.dataPoints[0].endTime);
  assert.equal((await collected(m)).size, 0, "nothing new: nothing exported");
});

Deno.test("failures are counted by endpoint and status; rows without latency only count", async () => {
  const m = metrics();
  m.add([
    cell("GET", "/a", 200, false, [1_000]),
    cell("GET", "/a", 503, true, [2_000, 2_000]),
    cell("TASK", "boom", 0, true, null, 4),
  ]);
  const out = await collected(m);
  const failures = out.get("stampede.request.failures")!.dataPoints;
  assert.deepEqual(
    failures.map((p) => [p.attributes.name, p.attributes.status_code, p.value]).sort(),
    [["/a", 503, 2], ["boom", 0, 4]],
  );
  const requests = out.get("stampede.requests")!.dataPoints;
  assert.equal(requests.reduce((sum, p) => sum + (p.value as number), 0), 7);
  const durations = out.get("stampede.request.duration")!.dataPoints;
  assert.deepEqual(
    durations.map((p) => [p.attributes.outcome, (p.value as OtelHistogram).count]).sort(),
    [["failure", 2], ["success", 1]],
  );
});

Deno.test("exponential histograms carry the same count and sum, each value in its bucket", async () => {
  const m = metrics({ histogram: "exponential" });
  const latenciesUs = [120, 950, 1_000, 1_500, 20_000, 20_001, 350_000];
  m.add([cell("GET", "/a", 200, false, latenciesUs.slice(0, 4))]);
  m.add([cell("GET", "/a", 200, false, latenciesUs.slice(4))]);
  const duration = (await collected(m)).get("stampede.request.duration")!;
  assert.equal(duration.dataPointType, DataPointType.EXPONENTIAL_HISTOGRAM);
  const value = duration.dataPoints[0].value as ExponentialHistogram;
  assert.equal(value.count, latenciesUs.length);
  assert.ok(Math.abs(value.sum! - latenciesUs.reduce((a, b) => a + b, 0) / 1e6) < 1e-9);
  assert.equal(value.positive.bucketCounts.reduce((a, b) => a + b, 0), latenciesUs.length);
  assert.equal(value.zeroCount, 0);
  assert.ok(value.positive.bucketCounts.length <= 160);
  // A value is placed by the bottom of its HDR sub-bucket, as for explicit buckets.
  const hdr = createHistogram() as unknown as { lowestEquivalentValue(v: number): number };
  for (const us of latenciesUs) {
    const placedS = hdr.lowestEquivalentValue(us) / 1e6;
    const index = (indexAtMaxScale(placedS) >> (MAX_SCALE - value.scale)) - value.positive.offset;
    assert.ok(value.positive.bucketCounts[index] > 0, `${us} µs has a bucket`);
  }
});
