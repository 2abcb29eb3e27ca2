/** Public API of the aggregation lib: the module serving GET /v1/aggregates. */
export { AggregationModule } from './aggregation.module.js';
