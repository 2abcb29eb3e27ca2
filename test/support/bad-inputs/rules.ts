// The reading rules the corpus attacks, taken from @funnel/contracts so that no limit or pattern is copied here.
import { getMetadataStorage } from 'class-validator';

import { ID_PATTERN, MAX_TAGS, NAME_PATTERN, PointDto, tagsProblem } from '@funnel/contracts';

/**
 * The longest value PointDto's @Length allows for `field`. @funnel/contracts exports no constant for the
 * sensorId/metric limits (yet), so they are read from the DTO's own validation rules, the single place they live.
 */
function maxLengthOf(field: 'sensorId' | 'metric'): number {
  const rule = getMetadataStorage()
    .getTargetValidationMetadatas(PointDto, '', true, false)
    .find((m) => m.propertyName === field && m.name === 'isLength');
  const max = Number(rule?.constraints?.[1]);
  if (!Number.isInteger(max)) throw new Error(`PointDto.${field} declares no @Length maximum`);
  return max;
}

/** Longest sensor id. */
export const MAX_SENSOR_ID = maxLengthOf('sensorId');
/** Longest metric name. */
export const MAX_METRIC = maxLengthOf('metric');
/** Longest reading id (ID_PATTERN is 1-N characters of the name set). */
export const MAX_READING_ID = Number(/\{1,(\d+)\}/.exec(ID_PATTERN.source)?.[1]);
/**
 * Longest Idempotency-Key. The ingest controller keeps its printable-ASCII pattern to itself; until
 * @funnel/contracts exports it, the documented limit is that of reading ids (both "1-128 characters").
 */
export const MAX_IDEMPOTENCY_KEY = MAX_READING_ID;
/**
 * Longest tag key. @funnel/contracts keeps MAX_TAG_KEY_LENGTH out of its index (yet), so it is found by asking
 * its public tagsProblem() which key lengths it accepts.
 */
export const MAX_TAG_KEY_LENGTH = (() => {
  const accepted = (n: number) => tagsProblem({ ['k'.repeat(n)]: 'v' }) === undefined;
  let n = 1;
  while (accepted(n + 1)) n++;
  return n;
})();
export { MAX_TAGS };

/** Characters a name may contain: the printable ASCII characters NAME_PATTERN accepts. */
export const NAME_CHARS = Array.from({ length: 0x7f - 0x21 }, (_, i) => String.fromCharCode(0x21 + i))
  .filter((ch) => NAME_PATTERN.test(ch))
  .join('');
