export { FunnelMetrics, type PartitionLag } from './funnel-metrics.js';
export { MetricsModule } from './metrics.module.js';
export { WeightedHistogram } from './weighted-histogram.js';
