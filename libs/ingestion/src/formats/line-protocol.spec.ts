// A corpus from the InfluxDB line-protocol reference: escaping, every field type, comments, timestamps and
// precisions, each line with the parts it must yield or the problem it must name.
import { describe, expect, it } from '@jest/globals';

import { parseLineProtocol, timestampMs, V1_PRECISIONS, V2_PRECISIONS } from './line-protocol.js';
import { readingsOf, readingsOfBody } from './line-protocol.readings.js';

const one = (line: string) => {
  const parsed = parseLineProtocol(line);
  expect(parsed.problems).toEqual([]);
  expect(parsed.lines).toHaveLength(1);
  return parsed.lines[0]!;
};
const problem = (line: string) => {
  const parsed = parseLineProtocol(line);
  expect(parsed.lines).toEqual([]);
  expect(parsed.problems).toHaveLength(1);
  return parsed.problems[0]!.reason;
};

describe('line protocol: elements', () => {
  it('reads measurement, tags, fields and timestamp', () => {
    expect(one('weather,location=us-midwest,season=summer temperature=82 1465839830100400200')).toEqual({
      line: 1,
      measurement: 'weather',
      tags: [
        ['location', 'us-midwest'],
        ['season', 'summer'],
      ],
      fields: [['temperature', 82]],
      timestamp: '1465839830100400200',
    });
  });

  it('takes a line without tags or timestamp', () => {
    expect(one('weather temperature=82')).toEqual({
      line: 1,
      measurement: 'weather',
      tags: [],
      fields: [['temperature', 82]],
    });
  });

  it('reads several fields in order', () => {
    expect(one('m a=1,b=2.5,c=-3').fields).toEqual([
      ['a', 1],
      ['b', 2.5],
      ['c', -3],
    ]);
  });

  it('tolerates several spaces between elements and trailing spaces', () => {
    expect(one('m,t=1   f=1   42   ')).toMatchObject({ fields: [['f', 1]], timestamp: '42' });
  });
});

describe('line protocol: field types', () => {
  it.each([
    ['1', 1],
    ['1.0', 1],
    ['-1.5', -1.5],
    ['1.', 1],
    ['.5', 0.5],
    ['1e3', 1000],
    ['-1.2E-2', -0.012],
    ['42i', 42],
    ['-42i', -42],
    ['9223372036854775807i', 2 ** 63],
    ['-9223372036854775808i', -(2 ** 63)],
    ['42u', 42],
    ['18446744073709551615u', 2 ** 64],
  ])('numeric %s is %d', (raw, value) => {
    expect(one(`m f=${raw}`).fields).toEqual([['f', value]]);
  });

  it.each([
    ['"a string"', /is a string/],
    ['"with \\" quote, and space"', /is a string/],
    ['t', /is a boolean/],
    ['TRUE', /is a boolean/],
    ['False', /is a boolean/],
    ['f', /is a boolean/],
    ['9223372036854775808i', /signed 64-bit range/],
    ['18446744073709551616u', /unsigned 64-bit range/],
    ['-1u', /invalid unsigned/],
    ['1.5i', /invalid integer/],
    ['1e400', /out of range/],
    ['NaN', /invalid number/],
    ['inf', /invalid number/],
    ['0x10', /invalid number/],
    ['+1', /invalid number/],
    ['"unterminated', /no closing quote/],
  ])('refuses %s', (raw, reason) => {
    expect(problem(`m f=${raw}`)).toMatch(reason);
  });
});

describe('line protocol: escaping', () => {
  it('measurement: escaped commas and spaces', () => {
    expect(one('my\\ weather\\,x,t=1 f=1').measurement).toBe('my weather,x');
  });
  it('measurement: an equals sign needs no escape', () => {
    expect(one('a=b f=1').measurement).toBe('a=b');
  });
  it('tag keys and values: escaped commas, equals signs and spaces', () => {
    expect(one('m,tag\\ key\\,\\=x=tag\\ value\\,\\=y f=1').tags).toEqual([['tag key,=x', 'tag value,=y']]);
  });
  it('field keys: escaped commas, equals signs and spaces', () => {
    expect(one('m field\\ k\\,\\=y=1').fields).toEqual([['field k,=y', 1]]);
  });
  it('two backslashes are one literal backslash', () => {
    expect(one('m,t=a\\\\b f=1').tags).toEqual([['t', 'a\\b']]);
  });
  it('a backslash before an ordinary character stays literal', () => {
    expect(one('m\\x,t=a\\b f=1')).toMatchObject({ measurement: 'm\\x', tags: [['t', 'a\\b']] });
  });
  it('a string field may hold escaped quotes, commas and spaces (then is refused as a string)', () => {
    const parsed = parseLineProtocol('m s="a \\"b\\", c=d",n=1');
    expect(parsed.problems[0]!.reason).toMatch(/field "s" is a string/);
  });
  it('unicode names pass through', () => {
    expect(one('temp,站=東京 f=1').tags).toEqual([['站', '東京']]);
  });
});

describe('line protocol: lines', () => {
  it('skips comments and blank lines, numbering lines as written (CRLF too)', () => {
    const parsed = parseLineProtocol('# header\r\n\r\nm f=1\r\n   \n  # indented comment\nm f=2 3\n');
    expect(parsed.problems).toEqual([]);
    expect(parsed.lines.map((l) => [l.line, l.fields[0]![1], l.timestamp])).toEqual([
      [3, 1, undefined],
      [6, 2, '3'],
    ]);
  });

  it('names the line number of each bad line and keeps reading', () => {
    const parsed = parseLineProtocol('m f=1\nm\nm f=1 x\nm,t f=1\nm, f=1\nm f=\n,t=1 f=1\nm f=1 1 2');
    expect(parsed.lines.map((l) => l.line)).toEqual([1]);
    expect(parsed.problems.map((p) => p.line)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(parsed.problems.map((p) => p.reason)).toEqual([
      'expected a field set after the measurement and tags',
      'timestamp "x" must be an integer',
      'tag key "t" must be followed by "="',
      'tag key is empty',
      'field "f" has no value',
      'measurement is empty',
      'timestamp "1 2" must be an integer',
    ]);
  });

  it('refuses a field key that appears twice', () => {
    expect(problem('m f=1,f=2')).toMatch(/appears twice/);
  });

  it('refuses an empty tag value', () => {
    expect(problem('m,t= f=1')).toMatch(/value of tag "t" is empty/);
  });
});

describe('timestamps and precisions', () => {
  it.each([
    ['1465839830100400200', 'ns', 1465839830100],
    ['1465839830100400', 'us', 1465839830100],
    ['1465839830100', 'ms', 1465839830100],
    ['1465839830', 's', 1465839830000],
    ['24430663', 'm', 24430663 * 60_000],
    ['407177', 'h', 407177 * 3_600_000],
    ['0', 'ns', 0],
    ['999999', 'ns', 0],
    ['-1', 'ns', -1],
    ['-1000001', 'ns', -2],
    ['9223372036854775807', 'ns', 9223372036854],
  ] as const)('%s at %s is %d ms', (digits, precision, ms) => {
    expect(timestampMs(digits, precision)).toBe(ms);
  });

  it('refuses a timestamp past what a safe integer of ms holds', () => {
    expect(timestampMs('9223372036854775807', 's')).toBeUndefined();
  });

  it('the v2 endpoint takes ns, us, ms, s; the 1.x one also n, u, m, h', () => {
    expect(Object.keys(V2_PRECISIONS)).toEqual(['ns', 'us', 'ms', 's']);
    expect(V1_PRECISIONS).toMatchObject({ n: 'ns', u: 'us', ms: 'ms', s: 's', m: 'm', h: 'h' });
  });
});

describe('readings of lines', () => {
  const mapping = { defaultMeasurement: 'funnel', sensorTags: ['sensor', 'host'] };
  const now = 1_800_000_000_000;

  it('names metrics <measurement>.<field>, or the field alone for the default measurement', () => {
    const { lines } = parseLineProtocol('cpu,host=a idle=1,user=2 1000\nfunnel,sensor=b temp=3');
    const mapped = readingsOf(lines, mapping, 'ms', now);
    expect(mapped.problems).toEqual([]);
    expect(mapped.readings).toEqual([
      { sensorId: 'a', metric: 'cpu.idle', value: 1, ts: 1000 },
      { sensorId: 'a', metric: 'cpu.user', value: 2, ts: 1000 },
      { sensorId: 'b', metric: 'temp', value: 3, ts: now },
    ]);
    expect(mapped.lineOf).toEqual([1, 1, 2]);
    expect(mapped.allTimestamped).toBe(false);
  });

  it('takes the sensorId from the first configured tag present and keeps the other tags', () => {
    const { lines } = parseLineProtocol('m,host=h,sensor=s,site=x f=1 5');
    const mapped = readingsOf(lines, mapping, 's', now);
    expect(mapped.readings).toEqual([
      { sensorId: 's', metric: 'm.f', value: 1, ts: 5000, tags: { host: 'h', site: 'x' } },
    ]);
    expect(mapped.allTimestamped).toBe(true);
  });

  it('refuses a line without any sensor tag, naming the tags it looked for', () => {
    const { lines } = parseLineProtocol('m,site=x f=1');
    const mapped = readingsOf(lines, mapping, 'ns', now);
    expect(mapped.readings).toEqual([]);
    expect(mapped.problems).toEqual([
      { line: 1, reason: 'no sensor tag: the line needs one of the tags "sensor", "host" (INFLUX_SENSOR_TAGS)' },
    ]);
  });

  it('maps a body straight from the scanner as readingsOf maps its parsed lines, problems of both included', () => {
    const body = [
      'cpu,host=a,site=x idle=1,user=2i 1000',
      'cpu,site=y idle=3 1000', // no sensor tag
      'funnel,sensor=b temp=3,t2=4u',
      'm,sensor=c f=1,f=2', // field twice
      '# comment',
      'weather,sensor=d,host=e,zone=z\\ 1 temperature=-1.5e3 -1',
      'm,sensor=f f="text"',
      'm,sensor=g f=1 99999999999999999999999',
      'm,sensor=h,site=x f=0.5,g=7 2000',
    ].join('\n');
    const parsed = parseLineProtocol(body);
    const separately = readingsOf(parsed.lines, mapping, 'ms', now);
    const together = readingsOfBody(body, mapping, 'ms', now);
    expect(together.readings).toEqual(separately.readings);
    expect(together.lineOf).toEqual(separately.lineOf);
    expect(together.allTimestamped).toBe(separately.allTimestamped);
    expect([...together.problems].sort((a, b) => a.line - b.line)).toEqual(
      [...parsed.problems, ...separately.problems].sort((a, b) => a.line - b.line),
    );
    expect(together.problems.map((p) => p.line)).toEqual([2, 4, 7, 8]);
    expect(together.readings).toHaveLength(7);
  });
});
