import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

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
