// The NDJSON line splitter (bounded lines across chunk edges) and the OTLP export mapping.
import { Readable } from 'node:stream';

import { describe, expect, it } from '@jest/globals';

import { linesOf } from './ndjson.js';
import { readingsOfExport } from './otlp-readings.js';

async function collect(chunks: string[], max: number) {
  const out = [];
  for await (const line of linesOf(Readable.from(chunks.map((c) => Buffer.from(c))), max)) out.push(line);
  return out.map((l) => (l.tooLong ? `${l.number}:TOO LONG` : `${l.number}:${l.text}`));
}

describe('linesOf', () => {
  it('joins lines across chunk edges, drops \\r, keeps a last line without newline', async () => {
    expect(await collect(['ab', 'c\r\nd', 'e\n\nf'], 10)).toEqual(['1:abc', '2:de', '3:', '4:f']);
  });

  it('reports a line over the limit without holding it, and goes on', async () => {
    expect(await collect(['12345', '6789\nok\n', 'x'.repeat(20)], 8)).toEqual(['1:TOO LONG', '2:ok', '3:TOO LONG']);
    expect(await collect(['123456789\nok'], 8)).toEqual(['1:TOO LONG', '2:ok']);
  });
});

describe('readingsOfExport', () => {
  const keys = ['sensor.id', 'host.name'];
  const kv = (key: string, value: string) => ({ key, value: { stringValue: value } });

  it('maps gauge and sum points; the point attribute wins over the resource; other attributes are tags', () => {
    const mapped = readingsOfExport(
      {
        resourceMetrics: [
          {
            resource: { attributes: [kv('host.name', 'res-host')] },
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'g',
                    data: 'gauge',
                    gauge: { dataPoints: [{ asDouble: 1.5, timeUnixNano: '2000000', attributes: [kv('room', 'a')] }] },
                  },
                  {
                    name: 's',
                    data: 'sum',
                    sum: {
                      dataPoints: [
                        { asInt: '7', attributes: [kv('sensor.id', 'pt'), { key: 'n', value: { intValue: '3' } }] },
                      ],
                    },
                  },
                ],
              },
            ],
          },
        ],
      },
      keys,
      99,
    );
    expect(mapped.rejected).toBe(0);
    expect(mapped.readings).toEqual([
      { sensorId: 'res-host', metric: 'g', value: 1.5, ts: 2, tags: { room: 'a' } },
      { sensorId: 'pt', metric: 's', value: 7, ts: 99, tags: { n: '3' } },
    ]);
  });

  it('rejects histograms, summaries, gaps and points without a sensor, saying why', () => {
    const mapped = readingsOfExport(
      {
        resourceMetrics: [
          {
            scopeMetrics: [
              {
                metrics: [
                  { name: 'h', data: 'histogram', histogram: { dataPoints: [{}, {}] } },
                  { name: 'e', data: 'exponentialHistogram', exponentialHistogram: { dataPoints: [{}] } },
                  { name: 'q', data: 'summary', summary: { dataPoints: [{}] } },
                  {
                    name: 'g',
                    data: 'gauge',
                    gauge: {
                      dataPoints: [{ asDouble: 1, flags: 1, attributes: [kv('sensor.id', 'x')] }, { asDouble: 1 }],
                    },
                  },
                ],
              },
            ],
          },
        ],
      },
      keys,
      0,
    );
    expect(mapped.readings).toEqual([]);
    expect(mapped.rejected).toBe(6);
    expect([...mapped.reasons].join('\n')).toMatch(
      /histogram points are not stored[\s\S]*exponentialHistogram[\s\S]*summary[\s\S]*no recorded value[\s\S]*no sensor attribute/,
    );
  });
});
