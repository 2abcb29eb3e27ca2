// The tokens collection: one document per token, holding its SHA-256 (never the token), scope and limits.
import type { Collection } from 'mongodb';

import { hashToken, newToken, scopeAllows, tokenId, type Scope } from './token.js';

/** A stored token: its public id, its hash and what it may do. */
export interface TokenDoc {
  _id: string;
  hash: string;
  scope: Scope;
  sensorPrefix?: string;
  description?: string;
  createdAt: Date;
  expiresAt?: Date;
  revokedAt?: Date;
}

/** What may be asked for when creating a token. */
export interface TokenRequest {
  scope: Scope;
  sensorPrefix?: string;
  description?: string;
  expiresAt?: Date;
}

/** A token as listed: everything but the hash. */
export type TokenInfo = Omit<TokenDoc, 'hash'>;

/** Name of the tokens collection beside the readings collection. */
export function tokensCollection(readingsCollection: string): string {
  return `${readingsCollection}_tokens`;
}

/** Creates, finds, lists and revokes tokens over a MongoDB collection (the api's connection or the CLI's client). */
export class TokensRepository {
  constructor(private readonly collection: Collection<TokenDoc>) {}

  /** Makes a random token, stores its hash and returns the token (shown once) with its public id. */
  async create(request: TokenRequest, now = new Date()): Promise<{ token: string; info: TokenInfo }> {
    const { token, id } = newToken();
    const doc = this.docFor(id, token, request, now);
    await this.collection.insertOne(doc);
    const { hash: _hash, ...info } = doc;
    return { token, info };
  }

  /**
   * Stores an operator-chosen admin token (FUNNEL_ADMIN_TOKEN) unless an admin token that is neither revoked
   * nor expired exists. Keyed by the token's id, so processes starting together store it once. True if stored.
   */
  async ensureAdmin(token: string, now = new Date()): Promise<boolean> {
    const admins = await this.collection.find({ scope: 'admin', revokedAt: { $exists: false } } as never).toArray();
    if (admins.some((doc) => doc.expiresAt === undefined || doc.expiresAt > now)) return false;
    const doc = this.docFor(tokenId(token), token, { scope: 'admin', description: 'FUNNEL_ADMIN_TOKEN' }, now);
    const result = await this.collection.updateOne({ _id: doc._id }, { $setOnInsert: doc }, { upsert: true });
    return result.upsertedCount === 1;
  }

  async find(id: string): Promise<TokenDoc | null> {
    return this.collection.findOne({ _id: id });
  }

  /** Every token, newest first, without hashes. */
  async list(): Promise<TokenInfo[]> {
    const docs = await this.collection.find({}, { projection: { hash: 0 } }).toArray();
    return (docs as TokenInfo[]).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }

  /** Marks a token revoked; false when there is no such token. Revoking twice keeps the first time. */
  async revoke(id: string, now = new Date()): Promise<boolean> {
    const found = await this.collection.findOne({ _id: id }, { projection: { revokedAt: 1 } });
    if (!found) return false;
    if (!found.revokedAt) await this.collection.updateOne({ _id: id }, { $set: { revokedAt: now } });
    return true;
  }

  private docFor(id: string, token: string, request: TokenRequest, now: Date): TokenDoc {
    return {
      _id: id,
      hash: hashToken(token),
      scope: request.scope,
      createdAt: now,
      ...(request.sensorPrefix ? { sensorPrefix: request.sensorPrefix } : {}),
      ...(request.description ? { description: request.description } : {}),
      ...(request.expiresAt ? { expiresAt: request.expiresAt } : {}),
    };
  }
}

/** Why a stored token cannot be used now, or undefined when it can. */
export function unusable(doc: TokenDoc, now: number): string | undefined {
  if (doc.revokedAt) return 'the token was revoked';
  if (doc.expiresAt && doc.expiresAt.getTime() <= now) return 'the token has expired';
  return undefined;
}

/** True when `doc` holds at least `needed`. */
export function holds(doc: Pick<TokenDoc, 'scope'>, needed: Scope): boolean {
  return scopeAllows(doc.scope, needed);
}
