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
    let pending = this.inFlight.get(id);
    if (!pending) {
      pending = this.tokens.find(id).finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, pending);
    }
    try {
      const doc = await pending;
      this.remember(id, doc, now);
      return doc;
    } catch (error) {
      if (cached && now - cached.at < this.config.AUTH_STALE_MS) return cached.doc;
      throw new DependencyUnavailable('mongodb', `token lookup failed: ${(error as Error).message}`, error);
    }
  }

  private remember(id: string, doc: TokenDoc | null, now: number): void {
    this.cache.delete(id);
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(id, { doc, at: now });
  }
}
