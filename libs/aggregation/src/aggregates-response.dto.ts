/** The answer of GET /v1/aggregates: one series' buckets, as OpenAPI documents them. */
import { ApiProperty } from '@nestjs/swagger';

export class BucketDto {
  @ApiProperty({ example: '2026-11-28T04:00:00.000Z', description: 'Bucket start, ISO-8601 UTC, aligned to the epoch' })
  start!: string;

  @ApiProperty({ example: 60 })
  count!: number;

  @ApiProperty({ example: 21.4 })
  avg!: number;

  @ApiProperty({ example: 19.8 })
  min!: number;

  @ApiProperty({ example: 23.1 })
  max!: number;

  @ApiProperty({ example: 1284 })
  sum!: number;
}

export class AggregatesResponseDto {
  @ApiProperty({ example: 'boiler-7' })
  sensorId!: string;

  @ApiProperty({ example: 'temperature' })
  metric!: string;

  @ApiProperty({ example: 'hour' })
  window!: string;

  @ApiProperty({ example: '2026-11-28T00:00:00.000Z' })
  from!: string;

  @ApiProperty({ example: '2026-11-29T00:00:00.000Z' })
  to!: string;

  @ApiProperty({ type: [BucketDto], description: 'Non-empty buckets sorted by start' })
  buckets!: BucketDto[];
}
