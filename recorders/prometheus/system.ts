// The system families of the Prometheus recorder: each load process's latest CPU, memory and
// event-loop lag as gauges, and its network bytes as counters.
import type { SystemSample } from "../../core/recorder/types.ts";
import type { ExpositionWriter } from "./exposition.ts";

/** The system samples of every load process, as served. */
export class SystemFamilies {
  readonly #system = new Map<string, SystemSample>();
  readonly #network = new Map<string, { sent: number; received: number }>();

  /**
   * Keeps the latest value of each gauge field per load process (a field a sample leaves out
   * keeps its last value) and adds up the network fields, which are bytes over each sample's
   * span, into counters.
   */
  add(samples: readonly SystemSample[]): void {
    for (const sample of samples) {
      const merged: Record<string, unknown> = { ...this.#system.get(sample.source) };
      for (const [field, value] of Object.entries(sample)) {
        if (value !== undefined) merged[field] = value;
      }
      this.#system.set(sample.source, merged as unknown as SystemSample);
      if (sample.networkSentBytes !== undefined || sample.networkReceivedBytes !== undefined) {
        const network = this.#network.get(sample.source) ?? { sent: 0, received: 0 };
        network.sent += sample.networkSentBytes ?? 0;
        network.received += sample.networkReceivedBytes ?? 0;
        this.#network.set(sample.source, network);
      }
    }
  }

  /** The system families: gauges by source, network counters by source. */
  render(w: ExpositionWriter): void {
    const gauges: [string, string, (s: SystemSample) => number | undefined][] = [
      [
        "stampede_cpu_usage_ratio",
        "CPU used by the load thread (coordinator or worker), as a fraction of one core",
        (s) => s.cpuPercent === undefined ? undefined : s.cpuPercent / 100,
      ],
      [
        "stampede_process_cpu_usage_ratio",
        "CPU used by the whole load process (every thread), as a fraction of one core",
        (s) => s.processCpuPercent === undefined ? undefined : s.processCpuPercent / 100,
      ],
      [
        "stampede_cpu_wait_ratio",
        "Share of time the load thread was ready to run but waited for a core",
        (s) => s.cpuWaitPercent === undefined ? undefined : s.cpuWaitPercent / 100,
      ],
      [
        "stampede_process_resident_memory_bytes",
        "Resident memory of the load process",
        (s) => s.rssBytes,
      ],
      ["stampede_process_heap_used_bytes", "JavaScript heap in use", (s) => s.heapUsedBytes],
      [
        "stampede_event_loop_lag_p99_seconds",
        "99th percentile of the event loop's lag over the last sample period",
        (s) => s.eventLoopLagP99Ms === undefined ? undefined : s.eventLoopLagP99Ms / 1000,
      ],
    ];
    for (const [name, help, pick] of gauges) {
      w.family(name, "gauge", `${help}, by load process (source)`);
      for (const [source, sample] of this.#system) {
        const value = pick(sample);
        if (value !== undefined && Number.isFinite(value)) w.sample(name, { source }, value);
      }
    }
    const counters = [
      ["stampede_network_sent_bytes_total", "sent", "Bytes sent over the network"],
      ["stampede_network_received_bytes_total", "received", "Bytes received over the network"],
    ] as const;
    for (const [name, field, help] of counters) {
      w.family(name, "counter", `${help} (every interface of the host), by load process (source)`);
      for (const [source, network] of this.#network) w.sample(name, { source }, network[field]);
    }
  }
}
