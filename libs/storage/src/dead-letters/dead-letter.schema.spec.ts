// Unit tests of how a dead letter holds a record value's bytes: text when valid UTF-8, else base64, and back.
import { randomBytes } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { DEAD_LETTER_PREVIEW_CHARS, deadLetterBytes, deadLetterValue } from './dead-letter.schema.js';

const bytes = (...octets: number[]) => Buffer.from(octets);

describe('deadLetterValue', () => {
  it.each([
    ['JSON text', Buffer.from('{ "v" : 99 }'), '{ "v" : 99 }'],
    ['an empty value', bytes(), ''],
    [
      'text starting with a 0 byte (a schema-registry frame of ASCII)',
      bytes(0, 0, 0, 0, 7, 0x41),
      '\u0000\u0000\u0000\u0000\u0007A',
    ],
    ['multi-byte characters and a real U+FFFD', bytes(0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xef, 0xbf, 0xbd), 'é€\ufffd'],
  ])('keeps %s as the text itself, with no encoding', (_, value, text) => {
    expect(deadLetterValue(value)).toEqual({ value: text });
  });

  it.each([
    ['bytes that are never UTF-8', bytes(0xff, 0xfe, 0x80), '//6A'],
    ['a 0 byte then a stray continuation byte', bytes(0x00, 0x80), 'AIA='],
    ['a truncated 3-byte sequence', bytes(0x41, 0xe2, 0x82), 'QeKC'],
    ['an encoded surrogate (CESU-8)', bytes(0xed, 0xa0, 0x80), '7aCA'],
    ['an overlong "/"', bytes(0xc0, 0xaf), 'wK8='],
  ])('keeps %s as base64', (_, value, base64) => {
    expect(deadLetterValue(value)).toEqual({ value: base64, encoding: 'base64' });
  });
});

describe('deadLetterBytes', () => {
  it('gives back exactly the bytes of any value, text or binary', () => {
    const values = [
      bytes(),
      bytes(0),
      bytes(0xff, 0xfe, 0x80),
      Buffer.from('plain text, ünïcödé'),
      ...Array.from({ length: 200 }, (_, i) => randomBytes(i * 7)),
    ];
    for (const value of values) {
      expect(deadLetterBytes(deadLetterValue(value)).equals(value)).toBe(true);
    }
  });

  it('reads a letter stored before `encoding` existed as UTF-8 text', () => {
    expect(deadLetterBytes({ value: 'not json at all' }).equals(Buffer.from('not json at all', 'utf8'))).toBe(true);
  });

  it("decodes a base64 letter's listed preview to the value's first 48 KiB", () => {
    const value = Buffer.concat([bytes(0xff), randomBytes(100 * 1024)]);
    const letter = deadLetterValue(value);
    const preview = { ...letter, value: letter.value.slice(0, DEAD_LETTER_PREVIEW_CHARS) };
    expect(deadLetterBytes(preview).equals(value.subarray(0, (DEAD_LETTER_PREVIEW_CHARS / 4) * 3))).toBe(true);
    expect((DEAD_LETTER_PREVIEW_CHARS / 4) * 3).toBe(48 * 1024);
  });
});
