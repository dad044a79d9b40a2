// Traces end to end: cli.ts runs bounded iterations against a target that records every
// `traceparent` it receives, and exports spans to a test OTLP receiver that decodes them with
// its own protobuf definitions. What the target saw and what was exported must match exactly.
import assert from "node:assert/strict";
import { parseTraceparent, type Traceparent } from "../core/http/trace_context.ts";
import {
  argv,
  type CountingServer,
  freePort,
  readSummary,
  ROOT,
  runCli,
  runCliWithSummary,
  startCountingServer,
  tempDir,
} from "./helpers.ts";
import { spawnCli } from "./distributed_helpers.ts";
import { type OtlpReceiver, startOtlpReceiver } from "./otlp_receiver.ts";
import type { ReceivedSpan } from "./otlp_traces.ts";

const PLAN = `${ROOT}tests/plans/traces.plan.ts`;

/** What the target received: one entry per request (per hop), in arrival order. */
interface Seen {
  path: string;
  traceparent: string | null;
  tracestate: string | null;
  parsed: Traceparent | null;
}

/** A target that records every request's trace headers; `/redirect` sends on to `/traced`. */
function recordingTarget(): CountingServer & { seen: Seen[] } {
  const seen: Seen[] = [];
  const server = startCountingServer((req, url) => {
    const traceparent = req.headers.get("traceparent");
    seen.push({
      path: url.pathname,
      traceparent,
      tracestate: req.headers.get("tracestate"),
      parsed: parseTraceparent(traceparent),
    });
    if (url.pathname === "/redirect") {
      return new Response(null, { status: 302, headers: { location: "/traced" } });
    }
    return new Response("ok");
  });
  return Object.assign(server, { seen });
}

/** Runs the traces plan: `users` users of `iterations` iterations each, spans to `rx`. */
function runTraced(
  target: CountingServer,
  rx: OtlpReceiver,
  users: number,
  iterations: number,
  extra: string[],
  env: Record<string, string> = {},
) {
  return runCliWithSummary([
    PLAN,
    "--host",
    target.url,
    "--users",
    String(users),
    "--workers",
    "2",
    "--run-time",
    "60s",
    "--recorder",
    "json",
    "--json-file",
    "/dev/null",
    "--traces",
    "--trace-endpoint",
    rx.url,
    ...extra,
  ], {
    env: {
      TRACES_ITERATIONS: String(iterations),
      OTEL_BSP_SCHEDULE_DELAY: "200",
      OTEL_BSP_MAX_QUEUE_SIZE: "100000",
      ...env,
    },
    timeoutMs: 90_000,
  });
}

function byId(spans: ReceivedSpan[]): Map<string, ReceivedSpan> {
  return new Map(spans.map((s) => [s.spanId, s]));
}

/** Every header valid and sampled; the client spans are exactly the headers' spans, linked. */
function assertRatioOne(seen: Seen[], spans: ReceivedSpan[], runId: string): void {
  assert.ok(seen.length > 0);
  for (const s of seen) {
    assert.ok(s.parsed, `invalid traceparent ${s.traceparent} on ${s.path}`);
    assert.equal(s.parsed.sampled, true);
    assert.equal(s.tracestate, "stampede=test,other=1");
  }
  const client = spans.filter((s) => s.kind === 3);
  const roots = byId(spans.filter((s) => s.kind === 1));
  assert.deepEqual(
    client.map((s) => s.spanId).sort(),
    seen.map((s) => s.parsed!.parentId).sort(),
    "the exported client spans are exactly the spans the target saw as parents",
  );
  const clientById = byId(client);
  for (const s of seen) {
    const span = clientById.get(s.parsed!.parentId)!;
    assert.equal(span.traceId, s.parsed!.traceId);
    const root = roots.get(span.parentSpanId);
    assert.ok(root, `client span ${span.spanId} has no exported parent ${span.parentSpanId}`);
    assert.equal(root.traceId, span.traceId);
    assert.equal(root.parentSpanId, "");
    assert.equal(span.traceState, "stampede=test,other=1");
    assert.ok(String(span.attributes["url.full"]).endsWith(s.path));
    assert.equal(span.attributes["http.request.method"], "GET");
    assert.equal(span.attributes["server.address"], "127.0.0.1");
    assert.equal(span.attributes["stampede.user.kind"], "visitor");
    assert.equal(span.attributes["stampede.task"], "visit");
    assert.equal(span.resource["stampede.run_id"], runId);
    assert.equal(span.resource["stampede.testplan"], "traces");
    assert.ok(span.startTimeUnixNano >= root.startTimeUnixNano);
    assert.ok(span.endTimeUnixNano <= root.endTimeUnixNano);
  }
}

/** The two hops of each redirect: a 302 client span, then a resent one, under one parent. */
function assertRedirects(spans: ReceivedSpan[]): void {
  const client = spans.filter((s) => s.kind === 3);
  const firsts = client.filter((s) => s.attributes["http.response.status_code"] === 302);
  assert.ok(firsts.length > 0, "no redirect hop was exported");
  for (const first of firsts) {
    assert.equal(first.attributes["stampede.request.name"], "/redirect");
    const second = client.find((s) =>
      s.parentSpanId === first.parentSpanId && s.attributes["http.request.resend_count"] === 1
    );
    assert.ok(second, `no second hop for ${first.spanId}`);
    assert.equal(second.attributes["http.response.status_code"], 200);
    assert.ok(String(second.attributes["url.full"]).endsWith("/traced"));
    assert.ok(second.startTimeUnixNano >= first.endTimeUnixNano);
  }
}

for (
  const [engine, protocol] of [["h1", "http/protobuf"], ["fetch", "http/json"]] as const
) {
  Deno.test(`traces at ratio 1 (${engine}, ${protocol}): every request carried a traceparent and its exported span`, async () => {
    const target = recordingTarget();
    const rx = startOtlpReceiver();
    try {
      const result = await runTraced(
        target,
        rx,
        4,
        25,
        [
          "--http-engine",
          engine,
          "--trace-sample-ratio",
          "1",
          "--trace-state",
          "stampede=test,other=1",
        ],
        { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(rx.errors.length, 0, rx.errors.join("; "));
      // 100 iterations, 20 of them with a redirect: 120 requests counted, 140 hops seen.
      assert.equal(result.summary.totals.requests, 120);
      assert.equal(target.seen.length, 140);
      const contentType = protocol === "http/json" ? "application/json" : "application/x-protobuf";
      assert.ok(rx.spans.every((s) => s.contentType.startsWith(contentType)));
      assertRatioOne(target.seen, rx.spans, result.summary.run_id);
      assertRedirects(rx.spans);
    } finally {
      await target.shutdown();
      await rx.shutdown();
    }
  });
}

Deno.test("traces under an arrival rate: each scheduled iteration is a root span over its requests", async () => {
  const target = recordingTarget();
  const rx = startOtlpReceiver();
  try {
    const result = await runTraced(target, rx, 4, 1000, [
      "--arrival-rate",
      "200/s",
      "--iterations",
      "100",
      "--trace-sample-ratio",
      "1",
      "--trace-state",
      "stampede=test,other=1",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.summary.stop_reason, "iterations");
    // Pool users are reused, so which iterations redirect varies: each redirect is one request
    // counted and two hops seen.
    const redirects = target.seen.filter((s) => s.path === "/redirect").length;
    assert.equal(result.summary.totals.iterations, 100);
    assert.equal(result.summary.totals.requests, 100 + redirects);
    assert.equal(target.seen.length, 100 + 2 * redirects);
    assert.equal(rx.spans.filter((s) => s.kind === 1).length, 100, "one root span per iteration");
    assertRatioOne(target.seen, rx.spans, result.summary.run_id);
  } finally {
    await target.shutdown();
    await rx.shutdown();
  }
});

Deno.test("traces at ratio 0.1 over 10 000 iterations: the sampled share is within bounds and the flags match the exported spans one for one", async () => {
  const target = recordingTarget();
  const rx = startOtlpReceiver();
  try {
    const result = await runTraced(target, rx, 20, 500, ["--trace-sample-ratio", "0.1"]);
    assert.equal(result.code, 0, result.stderr);
    const iterations = target.seen.filter((s) => s.path === "/traced" && s.parsed);
    const traces = new Map<string, boolean>();
    for (const s of target.seen) {
      assert.ok(s.parsed, `invalid traceparent ${s.traceparent}`);
      const prior = traces.get(s.parsed.traceId);
      if (prior !== undefined) assert.equal(prior, s.parsed.sampled, "one decision per trace");
      traces.set(s.parsed.traceId, s.parsed.sampled);
    }
    // Every iteration is a trace of its own: 10 000 of them (each has one GET /traced first).
    assert.equal(traces.size, 10_000);
    assert.ok(iterations.length >= 10_000);
    const sampled = [...traces.values()].filter((s) => s).length;
    // Binomial(10 000, 0.1): mean 1000, standard deviation 30; 5 deviations either side.
    assert.ok(sampled >= 850 && sampled <= 1150, `${sampled} of 10 000 traces sampled`);
    const exported = new Set(rx.spans.filter((s) => s.kind === 3).map((s) => s.spanId));
    const sampledIds = target.seen.filter((s) => s.parsed!.sampled).map((s) => s.parsed!.parentId);
    assert.deepEqual([...exported].sort(), sampledIds.sort());
    // Iteration spans: of sampled traces only (the last iteration of each user, which stops it
    // before any request, is a trace the target never saw).
    const roots = rx.spans.filter((s) => s.kind === 1);
    for (const root of roots) assert.notEqual(traces.get(root.traceId), false);
  } finally {
    await target.shutdown();
    await rx.shutdown();
  }
});

Deno.test("traces off: no request carries a traceparent", async () => {
  const target = recordingTarget();
  try {
    const result = await runCliWithSummary([
      PLAN,
      ...["--host", target.url, "--users", "2", "--workers", "1", "--run-time", "30s"],
    ], { env: { TRACES_ITERATIONS: "10" } });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(target.seen.length, 28);
    assert.ok(target.seen.every((s) => s.traceparent === null && s.tracestate === null));
  } finally {
    await target.shutdown();
  }
});

Deno.test("a collector that is down is said once and loses spans, never the run", async () => {
  const target = recordingTarget();
  try {
    const dead = `http://127.0.0.1:${freePort()}`;
    const result = await runCliWithSummary([
      PLAN,
      ...["--host", target.url, "--users", "2", "--workers", "2", "--run-time", "30s"],
      ...["--traces", "--trace-endpoint", dead],
    ], {
      env: {
        TRACES_ITERATIONS: "20",
        OTEL_BSP_SCHEDULE_DELAY: "100",
        OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "500",
      },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.summary.totals.requests, 48);
    assert.equal(target.seen.length, 56);
    assert.ok(target.seen.every((s) => s.parsed?.sampled));
    const said = result.stderr.match(/Cannot export spans to/g) ?? [];
    assert.equal(said.length, 1, result.stderr);
    assert.match(
      result.stderr,
      /spans were not exported to "http:\/\/127\.0\.0\.1:\d+\/v1\/traces"/,
    );
  } finally {
    await target.shutdown();
  }
});

Deno.test("bad trace settings stop the run before the first request with exit code 2", async () => {
  const target = recordingTarget();
  try {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [
        ["--traces", "--trace-sample-ratio", "1.5"],
        {},
        /--trace-sample-ratio "1\.5": expected a number from 0 to 1/,
      ],
      [["--trace-sample-ratio", "0.5"], {}, /Cannot use --trace-sample-ratio without traces/],
      [["--traces", "--trace-endpoint", "ftp://x"], {}, /only http:\/\/ and https:\/\//],
      [["--traces", "--trace-state", "Bad Key=1"], {}, /Cannot use --trace-state "Bad Key=1"/],
      [["--traces"], { OTEL_TRACES_SAMPLER: "xray" }, /OTEL_TRACES_SAMPLER "xray"/],
      [[], { OTEL_TRACES_EXPORTER: "zipkin" }, /OTEL_TRACES_EXPORTER "zipkin"/],
      [["--traces"], { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc" }, /gRPC is not supported/],
    ];
    for (const [flags, env, message] of cases) {
      const result = await runCli([PLAN, "--host", target.url, "--run-time", "1s", ...flags], {
        env,
      });
      assert.equal(result.code, 2, `${flags.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    }
    assert.equal(target.seen.length, 0);
  } finally {
    await target.shutdown();
  }
});

Deno.test("traces from a worker process: its requests' spans are exported from where they were made, linked as on one machine", async () => {
  const target = recordingTarget();
  const rx = startOtlpReceiver();
  const dir = await tempDir();
  const port = freePort();
  const env = { TRACES_ITERATIONS: "25", OTEL_BSP_SCHEDULE_DELAY: "200" };
  try {
    const coordinator = spawnCli(
      argv`${PLAN} --coordinator --listen 127.0.0.1:${port} --expect-workers 1 --token t0ken --host ${target.url} --users 4 --run-time 60s --traces --trace-endpoint ${rx.url} --trace-sample-ratio 1 --trace-state stampede=test,other=1 --summary ${dir.path}/summary.json`,
      { env },
    );
    const worker = spawnCli(argv`worker --connect ws://127.0.0.1:${port} --workers 2`, {
      env: { ...env, STAMPEDE_TOKEN: "t0ken" },
    });
    const [result, workerResult] = await Promise.all([coordinator.result, worker.result]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(workerResult.code, 0, workerResult.stderr);
    const summary = await readSummary(`${dir.path}/summary.json`);
    assert.equal(summary.totals.requests, 120);
    assert.equal(target.seen.length, 140);
    assertRatioOne(target.seen, rx.spans, summary.run_id);
  } finally {
    await target.shutdown();
    await rx.shutdown();
    await dir.remove();
  }
});
