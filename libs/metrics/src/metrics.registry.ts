// The process's one Prometheus registry: feature metric classes register into it, GET /metrics serves it.
import { Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';

import type { WeightedHistogram } from './weighted-histogram.js';

/** Latency buckets (seconds) for HTTP requests and Kafka sends: 1 ms to 10 s. */
export const FAST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Every metric this process exports. Each feature module registers its own metrics here (see
 * `IngestionMetrics`, `PipelineMetrics`), so a role exports exactly the metrics of the modules it runs;
 * `funnel_build_info` and Node's process metrics are exported by every role.
 */
export class MetricsRegistry {
  /** Funnel's own metrics, served in the order they were registered. */
  private readonly funnel = new Registry();
  /** prom-client's process and Node.js metrics, served after Funnel's own. */
  private readonly process = new Registry();

  constructor(role: string, version: string) {
    const buildInfo = this.register(
      new Gauge({
        name: 'funnel_build_info',
        help: 'Always 1; labels carry the version, the role and the Node.js version',
        labelNames: ['version', 'role', 'node'] as const,
        registers: [],
      }),
    );
    buildInfo.set({ version, role, node: process.versions.node }, 1);
    collectDefaultMetrics({ register: this.process });
  }

  /** Adds `metric` to what GET /metrics serves and returns it; a second metric of the same name throws. */
  register<M extends Metric | WeightedHistogram>(metric: M): M {
    this.funnel.registerMetric(metric as unknown as Metric);
    return metric;
  }

  /** Names of every time series this registry can export (histograms as `_bucket`, `_sum`, `_count`). */
  seriesNames(): string[] {
    return this.merged()
      .getMetricsAsArray()
      .flatMap((metric) => {
        const { name, type } = metric as unknown as { name: string; type: string };
        return type === 'histogram' || type === 'summary'
          ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`]
          : [name];
      });
  }

  /** The Prometheus text exposition of every registered metric. */
  metrics(): Promise<string> {
    return this.merged().metrics();
  }

  private merged(): Registry {
    return Registry.merge([this.funnel, this.process]);
  }
}
