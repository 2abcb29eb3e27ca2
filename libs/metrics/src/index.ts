// The public API of @funnel/metrics: the registry, its module and the weighted histogram.
export { MetricsModule, type BuildInfo } from './metrics.module.js';
export { FAST_BUCKETS, MetricsRegistry } from './metrics.registry.js';
export { WeightedHistogram } from './weighted-histogram.js';
