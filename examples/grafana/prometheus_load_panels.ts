// The Prometheus dashboard's rows about the load itself: the load model (arrival rates, dropped
// iterations, corrected latency) and the load generators' health and lifecycle events.
import { memoryPanel, type PanelSpec } from "./panels.ts";
import { rate, REQ, RUN } from "./prometheus_queries.ts";

/**
 * The load model: iterations started against the configured arrival rate, dropped iterations,
 * and the latency from when iterations were due beside the service time.
 */
export function loadModelPanels(): PanelSpec[] {
  return [
    {
      title: "Iterations per second, and the arrival rate configured",
      type: "timeseries",
      unit: "short",
      w: 8,
      h: 8,
      description:
        "Iterations started per second by kind; for arrival-rate kinds, the rate they are configured to have",
      targets: [
        { expr: rate("stampede_iterations_total", "kind", RUN), legend: "{{kind}} started/s" },
        { expr: `sum by (kind) (stampede_target_arrival_rate{${RUN}})`, legend: "{{kind}} target" },
      ],
    },
    {
      title: "Dropped iterations per second",
      type: "timeseries",
      unit: "short",
      w: 8,
      h: 8,
      description:
        "Arrival-rate iterations no user of the pool could start within --max-lateness: raise --users or --max-users",
      targets: [{
        expr: rate("stampede_dropped_iterations_total", "kind", RUN),
        legend: "{{kind}}",
      }],
    },
    {
      title: "p99: corrected (from when due) vs service time",
      type: "timeseries",
      unit: "s",
      w: 8,
      h: 8,
      description:
        "Corrected latency counts from when each iteration was due (arrival rates, pacing): the wait a closed model hides",
      targets: [
        {
          expr:
            `histogram_quantile(0.99, sum by (le) (rate(stampede_request_corrected_duration_seconds_bucket{${REQ}}[$__rate_interval])))`,
          legend: "corrected p99",
        },
        {
          expr:
            `histogram_quantile(0.99, sum by (le) (rate(stampede_request_duration_seconds_bucket{${REQ}}[$__rate_interval])))`,
          legend: "service p99",
        },
      ],
    },
  ];
}

/** The load generators' own health: CPU per thread, memory, event-loop lag, network. */
export function loadGeneratorPanels(): PanelSpec[] {
  return [
    {
      title: "CPU per load thread",
      type: "timeseries",
      unit: "percentunit",
      w: 8,
      h: 8,
      description:
        "1 = one core. Waiting: ready to run but no core free; high waiting means the generator, not the target, is the bottleneck",
      targets: [
        { expr: `max by (source) (stampede_cpu_usage_ratio{${RUN}})`, legend: "{{source}}" },
        { expr: `max by (source) (stampede_cpu_wait_ratio{${RUN}})`, legend: "{{source}} waiting" },
        {
          expr: `max by (source) (stampede_process_cpu_usage_ratio{${RUN}})`,
          legend: "whole process",
        },
      ],
    },
    memoryPanel(
      `max by (source) (stampede_process_resident_memory_bytes{${RUN}})`,
      `max by (source) (stampede_process_heap_used_bytes{${RUN}})`,
    ),
    {
      title: "Event loop lag p99",
      type: "timeseries",
      unit: "s",
      w: 8,
      h: 8,
      description: "A lagging loop delays sends and stretches measured latencies",
      targets: [{
        expr: `max by (source) (stampede_event_loop_lag_p99_seconds{${RUN}})`,
        legend: "{{source}}",
      }],
    },
    {
      title: "Network (every interface of the generator's host)",
      type: "timeseries",
      unit: "Bps",
      w: 12,
      h: 8,
      targets: [
        {
          expr:
            `sum by (source) (rate(stampede_network_sent_bytes_total{${RUN}}[$__rate_interval]))`,
          legend: "sent",
        },
        {
          expr:
            `sum by (source) (rate(stampede_network_received_bytes_total{${RUN}}[$__rate_interval]))`,
          legend: "received",
        },
      ],
    },
  ];
}

/** How many of each lifecycle event the runs have had. */
export function lifecycleEventsPanel(): PanelSpec {
  return {
    title: "Lifecycle events",
    type: "stat",
    w: 12,
    h: 8,
    description: "test_start, spawning_complete, test_stop, cpu_warning and worker events",
    targets: [{
      expr: `sum by (event) (last_over_time(stampede_lifecycle_events_total{${RUN}}[$__range]))`,
      legend: "{{event}}",
    }],
    options: {
      reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
      textMode: "value_and_name",
      graphMode: "none",
    },
  };
}
