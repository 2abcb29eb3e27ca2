// Turns a presented token into the stored token it names, through a short-lived cache.
import { Injectable } from '@nestjs/common';

import { FunnelConfig } from '@funnel/config';
import { DependencyUnavailable } from '@funnel/contracts';

import { tokenId, tokenMatches } from './token.js';
import { unusable, TokensRepository, type TokenDoc } from './tokens.repository.js';

/** Who a request is: a usable stored token (its hash is not carried on). */
export type Principal = Omit<TokenDoc, 'hash'>;

/** The outcome of checking a token: the principal, or why it is refused (always a 401). */
export type Authentication = { principal: Principal } | { refused: string };

interface Cached {
  doc: TokenDoc | null;
  at: number;
}

/** After a failed lookup, how long stale answers are given without waiting for MongoDB. */
const RECHECK_DOWN_MS = 5_000;

/** Entries kept at most; past it the oldest go first (Map keeps insertion order). */
const MAX_CACHED = 10_000;

/**
 * Looks tokens up by public id and compares hashes in constant time. Lookups are cached for AUTH_CACHE_TTL_MS:
 * each process asks MongoDB again after that, so a revocation or expiry made by any process (or the CLI) is
 * seen by every process within AUTH_CACHE_TTL_MS, without a change stream (time-series deployments and the
 * stand-in may lack one). While MongoDB cannot answer, a token looked up within AUTH_STALE_MS keeps its last
 * answer, so the api goes on taking readings into Kafka; an unseen token then gets a 503.
 */
@Injectable()
export class Authenticator {
  private readonly cache = new Map<string, Cached>();
  private readonly inFlight = new Map<string, Promise<TokenDoc | null>>();
  /** When a lookup last failed: while MongoDB is known to be away, stale answers come at once, not after a timeout. */
  private failedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly tokens: TokensRepository,
    private readonly config: FunnelConfig,
  ) {}

  async authenticate(token: string, now = Date.now()): Promise<Authentication> {
    const id = tokenId(token);
    const doc = await this.lookup(id, now);
    // An unknown id and a wrong secret for a known id answer alike.
    if (!doc || !tokenMatches(token, doc.hash)) return { refused: 'the token is not known' };
    const problem = unusable(doc, now);
    if (problem) return { refused: problem };
    const { hash: _hash, ...principal } = doc;
    return { principal };
  }

  /** Forgets a token at once in this process (after revoking it here); other processes follow within the TTL. */
  forget(id: string): void {
    this.cache.delete(id);
  }

  private async lookup(id: string, now: number): Promise<TokenDoc | null> {
    const cached = this.cache.get(id);
    if (cached && now - cached.at < this.config.AUTH_CACHE_TTL_MS) return cached.doc;
    const stale = cached && now - cached.at < this.config.AUTH_STALE_MS ? cached : undefined;
    const pending = this.refresh(id, now);
    if (stale && now - this.failedAt < RECHECK_DOWN_MS) {
      // MongoDB failed moments ago: answer from the cache now; the refresh above lands when it answers again.
      pending.catch(() => undefined);
      return stale.doc;
    }
    try {
      return await pending;
    } catch (error) {
      if (stale) return stale.doc;
      throw new DependencyUnavailable('mongodb', `token lookup failed: ${(error as Error).message}`, error);
    }
  }

  /** One lookup per id at a time; the result is cached, a failure remembered. */
  private refresh(id: string, now: number): Promise<TokenDoc | null> {
    let pending = this.inFlight.get(id);
    if (!pending) {
      pending = this.tokens
        .find(id)
        .then(
          (doc) => {
            this.remember(id, doc, now);
            return doc;
          },
          (error: unknown) => {
            this.failedAt = Date.now();
            throw error;
          },
        )
        .finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, pending);
    }
    return pending;
  }

  private remember(id: string, doc: TokenDoc | null, now: number): void {
    this.cache.delete(id);
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(id, { doc, at: now });
  }
}
