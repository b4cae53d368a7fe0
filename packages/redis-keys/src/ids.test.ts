import { describe, expect, it } from 'vitest';
import { InvalidIdError } from './errors.js';
import { assertSafeId, isSafeId, MAX_ID_LENGTH } from './ids.js';

describe('assertSafeId', () => {
  it.each([
    'a',
    'session-1',
    'user_42',
    'v1.2.3',
    '.hidden',
    '..a',
    'a..',
    '._',
    '3f2c9a1e-6b1d-4c8e-9a4f-0c5b2d7e8f90',
    'A'.repeat(MAX_ID_LENGTH),
  ])('accepts %s', (id) => {
    expect(assertSafeId(id, 'sessionId')).toBe(id);
    expect(isSafeId(id)).toBe(true);
  });

  it.each([
    ['empty', '', 'must not be empty'],
    ['too long', 'a'.repeat(MAX_ID_LENGTH + 1), 'at most 128'],
    ['colon', 'a:b', "':'"],
    ['star', 'a*', "'*'"],
    ['question mark', 'a?', "'?'"],
    ['open bracket', 'a[', "'['"],
    ['close bracket', 'a]', "']'"],
    ['open brace', '{a', "'{'"],
    ['close brace', 'a}', "'}'"],
    ['space', 'a b', 'U+0020'],
    ['tab', 'a\tb', 'U+0009'],
    ['newline', 'a\nb', 'U+000A'],
    ['NUL', 'a\u0000b', 'U+0000'],
    ['DEL', 'a\u007fb', 'U+007F'],
    ['non-ASCII', 'café', 'U+00E9'],
    ['slash', 'a/b', "'/'"],
    ['a dot', '.', 'only dots'],
    ['two dots', '..', 'only dots'],
    ['many dots', '.'.repeat(MAX_ID_LENGTH), 'only dots'],
  ])('rejects %s with INVALID_ID', (_label, id, detail) => {
    expect(isSafeId(id)).toBe(false);
    try {
      assertSafeId(id, 'deviceId');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidIdError);
      const e = error as InvalidIdError;
      expect(e.code).toBe('INVALID_ID');
      expect(e.field).toBe('deviceId');
      expect(e.message).toContain('deviceId');
      expect(e.message).toContain(detail);
    }
  });

  it.each([
    [undefined, 'undefined'],
    [null, 'null'],
    [42, 'number'],
    [{}, 'object'],
  ])('rejects non-string %s', (value, kind) => {
    expect(() => assertSafeId(value, 'userId')).toThrow(`userId must be a string, got ${kind}`);
  });
});
