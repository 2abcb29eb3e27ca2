// Raw JSON text builders: bodies are written as text so they can hold what JSON.stringify never produces.

/** One key of a raw JSON object and its value, already written as JSON text. */
export type Entry = [key: string, raw: string];

export const J = (v: unknown): string => JSON.stringify(v);
export const rawObject = (entries: Entry[]): string => `{${entries.map(([k, v]) => `${J(k)}:${v}`).join(',')}}`;
export const rawArray = (items: string[]): string => `[${items.join(',')}]`;
export const JSON_CT = { 'content-type': 'application/json' };

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

// Messages that name the problem of a request refused as a whole.
export const NAMES_JSON = /json|body|pars/i;
export const NAMES_MEDIA_TYPE = /media type|content[- ]type|json/i;
export const NAMES_SIZE = /large|limit|MAX_BODY_BYTES|MAX_POINTS_PER_REQUEST|bytes/i;
export const NAMES_TOO_MANY = /MAX_POINTS_PER_REQUEST|readings|many|large/i;
export const NAMES_PROTO = /proto|constructor|forbidden|not allowed/i;
export const NAMES_DEPTH = /depth|nest|json|body|pars/i;
export const NAMES_BUCKETS = /MAX_BUCKETS|bucket/;
