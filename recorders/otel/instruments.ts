// The otel recorder's SDK instruments beside the request metrics: the run's gauges and counters,
// and the load generator's system figures.
import type { Counter, Gauge, Meter } from "npm:@opentelemetry/api@1.10.0";

/** The load generator's own figures. */
export interface SystemInstruments {
  cpu: Gauge;
  memory: Gauge;
  heap: Gauge;
  lag: Gauge;
  network: Counter;
}

/** The run's instruments (users, workers, thresholds, checks, iterations, retries, events). */
export interface RunInstruments {
  users: Gauge;
  workers: Gauge;
  thresholdOk: Gauge;
  checks: Counter;
  iterations: Counter;
  dropped: Counter;
  targetRate: Gauge;
  retries: Counter;
  events: Counter;
  system: SystemInstruments;
}

/** Creates the run's instruments on `meter`, in the order they are exported. */
export function createRunInstruments(meter: Meter): RunInstruments {
  return {
    users: meter.createGauge("stampede.users", {
      unit: "{user}",
      description: "Running virtual users, by user kind",
    }),
    workers: meter.createGauge("stampede.workers", {
      unit: "{worker}",
      description: "Running load workers",
    }),
    thresholdOk: meter.createGauge("stampede.threshold.ok", {
      unit: "1",
      description: "1 when a threshold held at the end of the run, 0 when it was crossed",
    }),
    checks: meter.createCounter("stampede.checks", {
      unit: "{check}",
      description: "Named checks evaluated, by check and result (pass or fail)",
    }),
    iterations: meter.createCounter("stampede.iterations", {
      unit: "{iteration}",
      description: "Iterations (task runs) started, by user kind",
    }),
    dropped: meter.createCounter("stampede.iterations.dropped", {
      unit: "{iteration}",
      description:
        "Arrival-rate iterations dropped (no user of the pool free within the lateness bound)",
    }),
    targetRate: meter.createGauge("stampede.arrival_rate.target", {
      unit: "{iteration}/s",
      description: "The arrival rate each open-model kind is configured to have now",
    }),
    retries: meter.createCounter("stampede.request.retries", {
      unit: "{request}",
      description:
        "Requests sent again on a fresh connection after a reused one closed unanswered (h1, idempotent methods)",
    }),
    events: meter.createCounter("stampede.events", {
      unit: "{event}",
      description: "Lifecycle events (test_start, spawning_complete, test_stop, ...), by event",
    }),
    system: createSystemInstruments(meter),
  };
}

/** Creates the load generator's instruments on `meter`. */
function createSystemInstruments(meter: Meter): SystemInstruments {
  return {
    cpu: meter.createGauge("stampede.process.cpu.utilization", {
      unit: "1",
      description:
        "CPU time of a load-generating thread over the last sample, as a ratio of one core",
    }),
    memory: meter.createGauge("stampede.process.memory.usage", {
      unit: "By",
      description: "Resident memory of the Stampede process",
    }),
    heap: meter.createGauge("stampede.process.heap.used", {
      unit: "By",
      description: "JavaScript heap in use by a load-generating thread",
    }),
    lag: meter.createGauge("stampede.process.event_loop.lag.p99", {
      unit: "s",
      description: "99th percentile of a thread's event-loop lag over the last sample",
    }),
    network: meter.createCounter("stampede.network.io", {
      unit: "By",
      description: "Bytes sent and received on the load generator's network interfaces",
    }),
  };
}
