// What a token is: its format, its public id, its stored hash, its scope and how long it lives.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The scopes a token can hold; `admin` implies `read` and `write`. */
export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** True when a token holding `held` may do what `needed` allows. */
export function scopeAllows(held: Scope, needed: Scope): boolean {
  return held === 'admin' || held === needed;
}

/** Tokens Funnel makes: `fnl_` + 12 hex characters of public id + `_` + 43 base64url characters of secret. */
const FUNNEL_TOKEN = /^(fnl_[0-9a-f]{12})_[A-Za-z0-9_-]{43}$/;

/** A newly made token: the secret value (shown once) and its public id (safe to log). */
export interface NewToken {
  token: string;
  id: string;
}

/** A token of 256 random bits with a random public id in front of them. */
export function newToken(): NewToken {
  const id = `fnl_${randomBytes(6).toString('hex')}`;
  return { id, token: `${id}_${randomBytes(32).toString('base64url')}` };
}

/**
 * The public id of a presented token: the part of a Funnel token before its secret, or, for a value chosen by an
 * operator (FUNNEL_ADMIN_TOKEN), `ext_` + 12 hex characters of its SHA-256. Safe to log either way.
 */
export function tokenId(token: string): string {
  const match = FUNNEL_TOKEN.exec(token);
  return match ? match[1]! : `ext_${sha256(token).toString('hex').slice(0, 12)}`;
}

/**
 * What is stored instead of the token: its SHA-256. A slow hash (bcrypt, scrypt) protects guessable passwords;
 * a token of 256 random bits cannot be guessed from its SHA-256, and a fast hash keeps each request cheap.
 */
export function hashToken(token: string): string {
  return sha256(token).toString('hex');
}

/** Compares a presented token with a stored hash in constant time. */
export function tokenMatches(token: string, storedHash: string): boolean {
  const stored = Buffer.from(storedHash, 'hex');
  const given = sha256(token);
  return stored.length === given.length && timingSafeEqual(stored, given);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** A token lifetime (`90d`, `12h`): also the pattern the OpenAPI document gives `expires`. */
export const DURATION = /^(\d{1,6})(s|m|h|d)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90d`, `12h`, `30m` or `45s` in milliseconds, or undefined when it is none of those. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return ms > 0 ? ms : undefined;
}

/** Where the `Authorization` header's token is: `Bearer <t>` or InfluxDB's `Token <t>`; undefined if absent. */
export type PresentedToken = { token: string } | { problem: string } | undefined;

const MAX_TOKEN_LENGTH = 512;

/** The token of an Authorization header, or what is wrong with the header. */
export function presentedToken(header: string | string[] | undefined): PresentedToken {
  if (header === undefined) return undefined;
  if (Array.isArray(header)) return { problem: 'more than one Authorization header' };
  const match = /^(Bearer|Token) +([\x21-\x7e]+) *$/i.exec(header);
  if (!match) {
    return { problem: 'the Authorization header must be "Bearer <token>" or "Token <token>"' };
  }
  if (match[2]!.length > MAX_TOKEN_LENGTH) return { problem: 'the token is longer than any token Funnel issues' };
  return { token: match[2]! };
}
