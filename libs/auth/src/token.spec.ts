import { describe, expect, it } from '@jest/globals';

import { hashToken, newToken, parseDuration, presentedToken, scopeAllows, tokenId, tokenMatches } from './token.js';

describe('tokens', () => {
  it('makes tokens whose public id is their own prefix, and never repeats one', () => {
    const a = newToken();
    const b = newToken();
    expect(a.token.startsWith(`${a.id}_`)).toBe(true);
    expect(tokenId(a.token)).toBe(a.id);
    expect(a.token).toMatch(/^fnl_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(a.token).not.toBe(b.token);
  });

  it('gives an operator-chosen value an id from its hash that does not contain it', () => {
    const id = tokenId('my-own-admin-token-value');
    expect(id).toMatch(/^ext_[0-9a-f]{12}$/);
    expect(id).toBe(`ext_${hashToken('my-own-admin-token-value').slice(0, 12)}`);
  });

  it('matches a token only against its own hash', () => {
    const { token } = newToken();
    expect(tokenMatches(token, hashToken(token))).toBe(true);
    expect(tokenMatches(`${token}x`, hashToken(token))).toBe(false);
    expect(tokenMatches(token, 'not hex at all')).toBe(false);
  });

  it('lets admin do everything and the others only their own scope', () => {
    expect(scopeAllows('admin', 'write')).toBe(true);
    expect(scopeAllows('admin', 'read')).toBe(true);
    expect(scopeAllows('read', 'write')).toBe(false);
    expect(scopeAllows('write', 'admin')).toBe(false);
    expect(scopeAllows('write', 'write')).toBe(true);
  });

  it('reads Bearer and Token headers, and names what is wrong with others', () => {
    expect(presentedToken(undefined)).toBeUndefined();
    expect(presentedToken('Bearer abc')).toEqual({ token: 'abc' });
    expect(presentedToken('token abc')).toEqual({ token: 'abc' });
    expect(presentedToken('Basic abc')).toHaveProperty('problem');
    expect(presentedToken('Bearer ')).toHaveProperty('problem');
    expect(presentedToken('Bearer caf\u00e9')).toHaveProperty('problem');
    expect(presentedToken(['Bearer a', 'Bearer b'])).toEqual({ problem: 'more than one Authorization header' });
    expect(presentedToken(`Bearer ${'a'.repeat(513)}`)).toHaveProperty('problem');
  });

  it('parses lifetimes in s, m, h and d', () => {
    expect(parseDuration('90d')).toBe(90 * 86_400_000);
    expect(parseDuration('45s')).toBe(45_000);
    expect(parseDuration('0d')).toBeUndefined();
    expect(parseDuration('1w')).toBeUndefined();
    expect(parseDuration('-1d')).toBeUndefined();
  });
});
