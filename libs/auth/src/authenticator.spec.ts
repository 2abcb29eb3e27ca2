import { describe, expect, it } from '@jest/globals';

import type { FunnelConfig } from '@funnel/config';

import { Authenticator } from './authenticator.js';
import { hashToken, newToken } from './token.js';
import type { TokenDoc, TokensRepository } from './tokens.repository.js';

/** A repository over a map, whose lookups can be made to fail as if MongoDB were away. */
class MapTokens {
  readonly docs = new Map<string, TokenDoc>();
  down = false;
  lookups = 0;
  async find(id: string): Promise<TokenDoc | null> {
    this.lookups++;
    if (this.down) throw new Error('connection refused');
    return this.docs.get(id) ?? null;
  }
}

const config = { AUTH_CACHE_TTL_MS: 1_000, AUTH_STALE_MS: 60_000 } as FunnelConfig;

function setup() {
  const tokens = new MapTokens();
  const { token, id } = newToken();
  tokens.docs.set(id, { _id: id, hash: hashToken(token), scope: 'write', createdAt: new Date(0) });
  const auth = new Authenticator(tokens as unknown as TokensRepository, config);
  return { tokens, token, id, auth };
}

describe('Authenticator', () => {
  it('accepts a stored token, refuses a wrong secret for its id and an unknown one alike', async () => {
    const { token, auth } = setup();
    expect(await auth.authenticate(token, 0)).toMatchObject({ principal: { scope: 'write' } });
    expect(await auth.authenticate(`${token.slice(0, 17)}${'x'.repeat(43)}`, 0)).toEqual({
      refused: 'the token is not known',
    });
    expect(await auth.authenticate(newToken().token, 0)).toEqual({ refused: 'the token is not known' });
  });

  it('sees a revocation made elsewhere once the cache entry is older than AUTH_CACHE_TTL_MS', async () => {
    const { tokens, token, id, auth } = setup();
    await auth.authenticate(token, 0);
    tokens.docs.set(id, { ...tokens.docs.get(id)!, revokedAt: new Date(500) });
    expect(await auth.authenticate(token, 999)).toHaveProperty('principal');
    expect(await auth.authenticate(token, 1_000)).toEqual({ refused: 'the token was revoked' });
  });

  it('refuses an expired token at once, without a lookup', async () => {
    const { tokens, token, id, auth } = setup();
    tokens.docs.set(id, { ...tokens.docs.get(id)!, expiresAt: new Date(100) });
    expect(await auth.authenticate(token, 99)).toHaveProperty('principal');
    expect(await auth.authenticate(token, 100)).toEqual({ refused: 'the token has expired' });
    expect(tokens.lookups).toBe(1);
  });

  it('keeps the last answer while MongoDB is away, and a token never seen gets DependencyUnavailable', async () => {
    const { tokens, token, auth } = setup();
    await auth.authenticate(token, 0);
    tokens.down = true;
    expect(await auth.authenticate(token, 5_000)).toHaveProperty('principal');
    // Within the recheck pause the stale answer comes without waiting for the failing lookup.
    expect(await auth.authenticate(token, 5_001)).toHaveProperty('principal');
    await expect(auth.authenticate(newToken().token, 5_002)).rejects.toMatchObject({ name: 'DependencyUnavailable' });
    expect(await auth.authenticate(token, 61_000).catch((e: Error) => e.name)).toBe('DependencyUnavailable');
  });
});
