import { z } from 'zod';
import { InvalidIdError } from './errors.js';

/** Longest id accepted in a key. A UUID is 36 characters; 128 leaves room for others. */
export const MAX_ID_LENGTH = 128;

/**
 * The one rule for ids that go into keys: letters, digits, `-`, `_` and `.`,
 * 1 to {@link MAX_ID_LENGTH} characters, not only dots (`.` and `..` are path
 * segments wherever an id names a folder). It excludes `:` (key separator),
 * glob characters `* ? [ ]` (they would widen a SCAN pattern), braces (cluster
 * hash tags), whitespace and control characters, so two different ids can never
 * build the same key. Written as leading dots, then one character that is not a
 * dot: linear to match, and without lookahead, so every JSON Schema reader (Go's
 * RE2 too) takes it; the length is checked beside it (`maxLength`, {@link isSafeId}).
 */
export const SAFE_ID_PATTERN = /^\.*[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/**
 * {@link SAFE_ID_PATTERN} as a zod schema: the one schema every package, route
 * and OpenAPI document uses for ids that go into keys.
 */
export const safeIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`)
  .regex(SAFE_ID_PATTERN, "allowed are letters, digits, '-', '_' and '.', not only dots");

/** True when `value` may be used as an id in a key. */
export function isSafeId(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_ID_LENGTH && SAFE_ID_PATTERN.test(value);
}

/**
 * Returns `value` when it is a safe id, otherwise throws {@link InvalidIdError}
 * naming `field` and what is wrong with the value.
 *
 * @example
 * assertSafeId('session-1', 'sessionId'); // 'session-1'
 * assertSafeId('a:b', 'sessionId');       // throws INVALID_ID
 */
export function assertSafeId(value: unknown, field = 'id'): string {
  if (typeof value !== 'string') {
    throw new InvalidIdError(field, `must be a string, got ${value === null ? 'null' : typeof value}`);
  }
  if (value.length === 0) {
    throw new InvalidIdError(field, 'must not be empty');
  }
  if (value.length > MAX_ID_LENGTH) {
    throw new InvalidIdError(field, `must be at most ${MAX_ID_LENGTH} characters, got ${value.length}`);
  }
  if (/^\.+$/.test(value)) {
    throw new InvalidIdError(field, "must not be only dots ('.' and '..' are path segments)");
  }
  if (!SAFE_ID_PATTERN.test(value)) {
    const bad = [...value].find((ch) => !/[A-Za-z0-9._-]/.test(ch)) ?? '';
    const shown = /^[\x21-\x7e]$/.test(bad)
      ? `'${bad}'`
      : `U+${(bad.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
    throw new InvalidIdError(field, `contains ${shown}; allowed are letters, digits, '-', '_' and '.'`);
  }
  return value;
}
