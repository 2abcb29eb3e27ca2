import { formatsRows, formatsTargets, type FormatsFigures } from './formats.js';
import { queryRows, queryTargets, type QueriesFigures } from './queries.js';
import { tierRows, tierTargets, type TiersFigures } from './tiers.js';

/** The bench's stages, in the order they run; `--only` picks some (the ceilings L_kafka and L_mongo always run). */
export const STAGE_NAMES = ['single', 'batched', 'backlog', 'tiers', 'queries', 'formats', 'cluster'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** The figures one bench run measured (medians where repeated). null = not measured. */
export interface BenchFigures {
  lHttpReqPerSec: number;
  /** The smallest Nest app on the same adapter, same load: the framework's share of the request path. */
  lNestReqPerSec: number;
  lKafkaMBPerSec: number;
  lKafkaRecordBytes: number;
  /** Readings/s that L_kafka's bytes/s allows with Funnel's encoding (record bytes / readings per record). */
  lKafkaReadingsPerSec: number;
  /** Batches of Funnel's flush size, each in `writeStreams` concurrent insertMany calls, as the worker writes. */
  lMongoDocsPerSec: number;
  /** The same batches in one insertMany call each. */
  lMongoOneStreamDocsPerSec: number;
  /** The ceiling process's own CPU (driver: BSON and I/O) per document of the concurrent calls. */
  lMongoClientCpuMicrosPerDoc: number;
  writeStreams: number;
  /** CPUs the machine has (every process of the pipeline shares them). */
  cores: number;
  singleReqPerSec: number;
  /** Median over rounds of each round's Funnel ÷ L_http (the three measured back to back in every round). */
  singleRatioOfRounds: number;
  nestRatioOfRounds: number;
  singleToNestOfRounds: number;
  singleRounds: number;
  singleP99AtHalfMs: number | null;
  batchedReadingsPerSec: number;
  batchedDurationS: number;
  batchedLagFlat: boolean;
  batchedLagMaxRecords: number;
  batchedFreshnessP99Ms: number | null;
  flushIntervalMs: number;
  workerFlushDocsPerSec: number;
  workerDrainDocsPerSec: number;
  backlogReadings: number;
  workerPeakRssMb: number;
  apiPeakRssMb: number;
  aggregationReadings: number;
  aggregationFunnelMs: number;
  /** The rollup pipeline Funnel runs, through the driver. */
  aggregationServerMs: number;
  /** The raw-readings pipeline for the same buckets, through the driver (the cost without rollups). */
  aggregationRawServerMs: number;
  aggregationRollupDocs: number;
  cpuMicrosPerReading: number;
  /** Over api, worker, Kafka broker and MongoDB server (null when the broker was not started by this run). */
  cpuAllMicrosPerReading: number | null;
  batchedOfferedPerSec: number;
  /** The second batched run, offered at half of what the first stored end to end (at most the target rate). */
  sustainedOfferedPerSec: number;
  sustainedReadingsPerSec: number;
  sustainedLagFlat: boolean;
  sustainedFreshnessP99Ms: number | null;
  /** The rollup tiers' stage (tiers.ts). */
  tiers: TiersFigures;
  /** The query API's stage (queries.ts). */
  queries: QueriesFigures;
  /** The ingest formats' stage (formats.ts). */
  formats: FormatsFigures;
}

export interface TargetResult {
  target: string;
  measured: string;
  pass: boolean;
  /**
   * Set when a ceiling measured in the same run is itself below the target, so no implementation on this
   * machine can meet it: the measured reason.
   */
  outOfReach?: string;
}

const n = (x: number | null | undefined, digits = 0) =>
  x === null || x === undefined
    ? '-'
    : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/**
 * The targets, each a ratio against a ceiling measured in the same run or an absolute bound; only
 * those of the stages that ran (their figures are set when they ran: `figures` is partial otherwise).
 */
export function evaluateTargets(
  partial: Partial<BenchFigures>,
  quick: boolean,
  ran: ReadonlySet<StageName>,
): TargetResult[] {
  const f = partial as BenchFigures;
  const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
  const singleRatio = f.singleRatioOfRounds;
  const kafkaRatio = ratio(f.batchedReadingsPerSec, f.lKafkaReadingsPerSec);
  const flushRatio = ratio(f.workerFlushDocsPerSec, f.lMongoDocsPerSec);
  const mongoRatio = ratio(f.batchedReadingsPerSec, f.lMongoDocsPerSec);
  const freshnessBound = f.flushIntervalMs + 250;
  // Why the target rate cannot be carried here, if a ceiling or the CPU budget measured in this run says so:
  // every reading ends in one insert, and every process of the pipeline shares the machine's cores.
  /** CPUs the pipeline needs at `rate` readings/s, at the CPU per reading measured in the 50,000/s run. */
  const coresAt = (rate: number) =>
    f.cpuAllMicrosPerReading === null ? null : (f.cpuAllMicrosPerReading * rate) / 1e6;
  const coresAtTarget = coresAt(50_000);
  const coresAtKafkaHalf = coresAt(0.5 * f.lKafkaReadingsPerSec);
  const targetRateOutOfReach =
    f.lMongoDocsPerSec < 50_000
      ? `L_mongo ${n(f.lMongoDocsPerSec)} docs/s < 50,000 (the store alone, with the machine to itself)`
      : coresAtTarget !== null && coresAtTarget > f.cores
        ? `at 50,000/s the pipeline needs ${n(coresAtTarget, 1)} CPUs (${n(f.cpuAllMicrosPerReading, 1)} µs per reading over api, worker, broker and store, measured in the run at 50,000/s offered); the machine has ${f.cores}`
        : undefined;
  return [
    ...(ran.has('single')
      ? [
          {
            target: 'single-reading POST ≥ 0.6 × L_http req/s',
            measured: `${n(singleRatio, 2)}, median of ${f.singleRounds} rounds (medians ${n(f.singleReqPerSec)} / ${n(f.lHttpReqPerSec)} req/s; ${n(f.singleToNestOfRounds, 2)} × L_nest, L_nest ${n(f.nestRatioOfRounds, 2)} × L_http)`,
            pass: singleRatio >= 0.6,
          },
          {
            target: 'single-reading p99 < 20 ms at half that rate',
            measured: `${n(f.singleP99AtHalfMs, 1)} ms`,
            pass: f.singleP99AtHalfMs !== null && f.singleP99AtHalfMs < 20,
          },
        ]
      : []),
    ...(ran.has('batched')
      ? [
          {
            target: 'batched end to end ≥ 0.5 × L_kafka readings/s',
            measured: `${n(f.batchedReadingsPerSec)} / ${n(f.lKafkaReadingsPerSec)} = ${n(kafkaRatio, 2)} (${n(mongoRatio, 2)} × L_mongo)`,
            pass: kafkaRatio >= 0.5 && f.batchedLagFlat,
            // Every reading ends in an insert: end to end cannot beat the store's own ceiling.
            outOfReach:
              f.lMongoDocsPerSec < 0.5 * f.lKafkaReadingsPerSec
                ? `L_mongo ${n(f.lMongoDocsPerSec)} docs/s < 0.5 × L_kafka = ${n(0.5 * f.lKafkaReadingsPerSec)} readings/s: every reading is one insert`
                : coresAtKafkaHalf !== null && coresAtKafkaHalf > f.cores
                  ? `at ${n(0.5 * f.lKafkaReadingsPerSec)} readings/s the pipeline needs ${n(coresAtKafkaHalf, 1)} CPUs; the machine has ${f.cores}`
                  : undefined,
          },
          {
            target: `batched ≥ 50,000 readings/s sustained 60 s, lag flat${quick ? ' (quick: shorter)' : ''}`,
            measured: `${n(f.batchedReadingsPerSec)}/s for ${n(f.batchedDurationS)} s, lag ${f.batchedLagFlat ? 'flat' : 'GROWING'} (max ${n(f.batchedLagMaxRecords)} records)`,
            pass: f.batchedReadingsPerSec >= 50_000 && f.batchedLagFlat && f.batchedDurationS >= (quick ? 0 : 60),
            outOfReach: targetRateOutOfReach,
          },
          {
            target: `freshness p99 ≤ flush interval + 250 ms (${n(freshnessBound)} ms)`,
            measured: `${n(f.batchedFreshnessP99Ms)} ms at ${n(f.batchedOfferedPerSec)}/s offered; ${n(f.sustainedFreshnessP99Ms)} ms at ${n(f.sustainedOfferedPerSec)}/s (lag ${f.sustainedLagFlat ? 'flat' : 'GROWING'})`,
            pass: f.batchedFreshnessP99Ms !== null && f.batchedFreshnessP99Ms <= freshnessBound,
            // Freshness at a rate the pipeline cannot carry is its growing lag; say what it is where it can.
            outOfReach:
              targetRateOutOfReach && !f.batchedLagFlat
                ? `${n(f.batchedOfferedPerSec)}/s cannot be carried here (above), so lag grows; at ${n(f.sustainedOfferedPerSec)}/s, half of what the pipeline stored flat out, p99 is ${n(f.sustainedFreshnessP99Ms)} ms (${f.sustainedFreshnessP99Ms !== null && f.sustainedFreshnessP99Ms <= freshnessBound ? 'within' : 'over'} the bound)`
                : undefined,
          },
        ]
      : []),
    ...(ran.has('backlog')
      ? [
          {
            target: 'worker flush ≥ 0.85 × L_mongo docs/s',
            measured: `${n(f.workerFlushDocsPerSec)} / ${n(f.lMongoDocsPerSec)} = ${n(flushRatio, 2)}`,
            pass: flushRatio >= 0.85,
          },
          {
            target: `aggregation of ${n(f.aggregationReadings)} readings into minutes < 1 s`,
            measured: `${n(f.aggregationFunnelMs)} ms (server ${n(f.aggregationServerMs)} ms + Funnel ${n(f.aggregationFunnelMs - f.aggregationServerMs)} ms; raw readings would take ${n(f.aggregationRawServerMs)} ms)`,
            pass: f.aggregationFunnelMs < 1000 && f.aggregationReadings >= (quick ? 0 : 1_000_000),
          },
          {
            target: `worker peak RSS < 300 MB draining ${n(f.backlogReadings)} readings`,
            measured: `${n(f.workerPeakRssMb)} MB`,
            pass: f.workerPeakRssMb < 300 && f.backlogReadings >= (quick ? 0 : 1_000_000),
          },
        ]
      : []),
    ...(ran.has('tiers') ? tierTargets(f.tiers, f.lMongoDocsPerSec) : []),
    ...(ran.has('queries') ? queryTargets(f.queries) : []),
    ...(ran.has('formats') ? formatsTargets(f.formats, f) : []),
  ];
}

/** The printed table: every figure of the stages that ran, then every target with PASS/MISS. */
export function formatTable(
  partial: Partial<BenchFigures>,
  targets: TargetResult[],
  header: string[],
  ran: ReadonlySet<StageName>,
): string {
  const f = partial as BenchFigures;
  const when = (stage: StageName, rows: Array<[string, string]>) => (ran.has(stage) ? rows : []);
  const rows: Array<[string, string]> = [
    ...when('single', [
      ['L_http  bare Fastify, 1 reading/request', `${n(f.lHttpReqPerSec)} req/s (median of ${f.singleRounds} rounds)`],
      [
        'L_nest  smallest Nest app, same adapter and load',
        `${n(f.lNestReqPerSec)} req/s = ${n(f.lHttpReqPerSec > 0 ? f.lNestReqPerSec / f.lHttpReqPerSec : 0, 2)} × L_http`,
      ],
    ]),
    [
      'L_kafka ProducerPerformance, acks=all',
      `${n(f.lKafkaMBPerSec, 1)} MB/s of ${n(f.lKafkaRecordBytes)} B records = ${n(f.lKafkaReadingsPerSec)} readings/s`,
    ],
    [
      'L_mongo driver insertMany, Funnel batch',
      `${n(f.lMongoDocsPerSec)} docs/s in ${f.writeStreams} concurrent calls per batch, as the worker writes; ${n(f.lMongoOneStreamDocsPerSec)} in one; driver CPU ${n(f.lMongoClientCpuMicrosPerDoc, 1)} µs per document`,
    ],
    ...when('single', [
      ['Funnel single-reading POST', `${n(f.singleReqPerSec)} req/s; p99 at half rate ${n(f.singleP99AtHalfMs, 1)} ms`],
    ]),
    ...when('batched', [
      [
        'Funnel batched end to end',
        `${n(f.batchedReadingsPerSec)} readings/s stored of ${n(f.batchedOfferedPerSec)}/s offered for ${n(f.batchedDurationS)} s; freshness p99 ${n(f.batchedFreshnessP99Ms)} ms`,
      ],
      [
        'Funnel batched at half of that',
        `${n(f.sustainedReadingsPerSec)} readings/s stored of ${n(f.sustainedOfferedPerSec)}/s offered, lag ${f.sustainedLagFlat ? 'flat' : 'GROWING'}; freshness p99 ${n(f.sustainedFreshnessP99Ms)} ms`,
      ],
    ]),
    ...when('backlog', [
      [
        'Funnel worker flush (backlog drain)',
        `${n(f.workerFlushDocsPerSec)} docs/s in flushes; ${n(f.workerDrainDocsPerSec)} docs/s drain wall-clock`,
      ],
      [
        `Funnel aggregation, ${n(f.aggregationReadings)} readings`,
        `${n(f.aggregationFunnelMs)} ms answer; ${n(f.aggregationServerMs)} ms same query via driver (${n(f.aggregationRollupDocs)} rollup docs); raw-readings pipeline ${n(f.aggregationRawServerMs)} ms`,
      ],
      ['peak RSS (VmHWM)', `worker ${n(f.workerPeakRssMb)} MB (backlog drain); api ${n(f.apiPeakRssMb)} MB`],
    ]),
    ...when('batched', [
      [
        'CPU per reading (batched run)',
        `${n(f.cpuMicrosPerReading, 1)} µs api + worker; ${n(f.cpuAllMicrosPerReading, 1)} µs with broker and store`,
      ],
    ]),
    // Not through when(): its rows are computed first, and a stage's rows read that stage's figures.
    ...(ran.has('tiers') ? tierRows(f.tiers) : []),
    ...(ran.has('queries') ? queryRows(f.queries) : []),
    ...(ran.has('formats') ? formatsRows(f.formats) : []),
  ];
  const w = Math.max(...rows.map(([k]) => k.length), ...targets.map((t) => t.target.length));
  const lines = [...header, '', 'figure'.padEnd(w) + '  value', '-'.repeat(w + 60)];
  for (const [k, v] of rows) lines.push(`${k.padEnd(w)}  ${v}`);
  lines.push('', 'target'.padEnd(w) + '  result  measured', '-'.repeat(w + 60));
  for (const t of targets) {
    lines.push(`${t.target.padEnd(w)}  ${t.pass ? 'PASS' : 'MISS'}    ${t.measured}`);
    if (!t.pass && t.outOfReach) lines.push(`${''.padEnd(w)}  out of reach here: ${t.outOfReach}`);
  }
  return lines.join('\n');
}
