/**
 * The Kafka record value the api publishes and the worker consumes (JSON).
 * One record carries up to KAFKA_POINTS_PER_RECORD readings of one request.
 */
export interface PointsRecord {
  /** Contract version; bump on an incompatible change. */
  v: 1;
  /** Epoch ms when the api received the request. */
  receivedAt: number;
  points: WirePoint[];
}

/** A validated reading, normalised: `ts` is always epoch milliseconds. */
export interface WirePoint {
  sensorId: string;
  metric: string;
  value: number;
  ts: number;
  tags?: Record<string, string>;
}
