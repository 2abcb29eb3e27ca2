// The shape of a stored reading and the time-series collection that holds it, defined once.
import { hash } from 'node:crypto';

import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { ObjectId, type TimeSeriesCollectionOptions } from 'mongodb';

import type { FunnelConfig } from '@funnel/config';
import { readingKey, type WirePoint } from '@funnel/contracts';

/** The metaField of a stored reading: what identifies its series. */
@Schema({ _id: false, versionKey: false })
export class PointMeta {
  @Prop({ required: true })
  sensorId!: string;

  @Prop({ required: true })
  metric!: string;

  @Prop({ type: Object })
  tags?: Record<string, string>;
}

/** One stored reading in the time-series collection (timeField `ts`, metaField `meta`). */
@Schema({ versionKey: false, autoCreate: false, autoIndex: false })
export class StoredPoint {
  @Prop({ required: true })
  id!: string;

  @Prop({ required: true, type: Date })
  ts!: Date;

  @Prop({ required: true, type: SchemaFactory.createForClass(PointMeta) })
  meta!: PointMeta;

  @Prop({ required: true })
  value!: number;

  /** `<partition>:<offset>` of the Kafka record it was stored from: tells a replay from another record's copy. */
  @Prop()
  src?: string;
}

/** A reading to insert, with the Kafka record it came from (stored as `src`). */
export interface SourcedPoint {
  point: WirePoint;
  src: string;
}

/** What is stored under an id, as the id check finds it. */
export interface StoredCopy {
  /** Undefined for readings stored before sources were recorded. */
  src?: string;
  sensorId: string;
  metric: string;
  tags?: Record<string, string>;
  ts: number;
  value: number;
}

/**
 * The `_id` of a stored reading where the readings collection is a regular collection (the mongo-java-server
 * stand-in, MongoDB < 5.0): the first 12 bytes of SHA-1 of its readingKey (id, sensorId, metric), as an ObjectId,
 * so the worker's id check reads readings by `_id`, the one index such a server always uses, and a second copy of
 * a key cannot be inserted. An ObjectId, as the driver would make, keeps the document's size and everything that
 * reads `_id` (the export cursor) as they are. Made from the hex digest: an ObjectId over the digest's own buffer
 * costs the worker an ArrayBuffer per reading to collect. Time-series collections (real MongoDB 5+) keep
 * driver-made ids: their check uses the `reading_id` index.
 */
export function readingDocId(point: { id: string; sensorId: string; metric: string }): ObjectId {
  return ObjectId.createFromHexString(hash('sha1', readingKey(point), 'hex').slice(0, 24));
}

/** The readings collection's time-series options: the schema and the explicit create both use these. */
export function readingsTimeSeries(config: Pick<FunnelConfig, 'TS_GRANULARITY'>): TimeSeriesCollectionOptions {
  return { timeField: 'ts', metaField: 'meta', granularity: config.TS_GRANULARITY };
}

/** The Mongoose schema of StoredPoint, bound to the configured collection as a time-series collection. */
export function readingSchema(config: Pick<FunnelConfig, 'MONGODB_COLLECTION' | 'TS_GRANULARITY'>) {
  const schema = SchemaFactory.createForClass(StoredPoint);
  schema.set('collection', config.MONGODB_COLLECTION);
  schema.set('timeseries', readingsTimeSeries(config));
  return schema;
}
