// The reading rules the corpus attacks, re-exported from @funnel/contracts (where they are defined once).
import {
  MAX_HEADER_ID_LENGTH,
  MAX_ID_LENGTH,
  MAX_METRIC_LENGTH,
  MAX_SENSOR_ID_LENGTH,
  MAX_TAG_KEY_LENGTH,
  MAX_TAGS,
  NAME_PATTERN,
} from '@funnel/contracts';

export const MAX_SENSOR_ID = MAX_SENSOR_ID_LENGTH;
export const MAX_METRIC = MAX_METRIC_LENGTH;
export const MAX_READING_ID = MAX_ID_LENGTH;
/** Longest Idempotency-Key (HEADER_ID_PATTERN: printable ASCII without the space). */
export const MAX_IDEMPOTENCY_KEY = MAX_HEADER_ID_LENGTH;
export { MAX_TAG_KEY_LENGTH, MAX_TAGS };

/** Characters a name may contain: the printable ASCII characters NAME_PATTERN accepts. */
export const NAME_CHARS = Array.from({ length: 0x7f - 0x21 }, (_, i) => String.fromCharCode(0x21 + i))
  .filter((ch) => NAME_PATTERN.test(ch))
  .join('');
