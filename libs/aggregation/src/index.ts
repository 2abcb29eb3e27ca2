export { AggregationModule } from './aggregation.module.js';
export { bucketCount, bucketStart, parseWindow } from './window.js';
