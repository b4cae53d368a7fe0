/**
 * The one definition of a valid bucket, key and key prefix, shared by the
 * stores and by the job schemas (`@nself-tv/queues`), so a location accepted
 * at the door is one every store accepts, on a filesystem and on S3.
 */

/** S3-style bucket name: 3–63 of lowercase letters, digits, `.` and `-`. */
export const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Temporary files start with this and never look like a finished object; keys may not. */
export const TEMP_MARK = '.partial-';

/** Longest key in UTF-8 bytes (S3's limit). */
export const MAX_KEY_BYTES = 1024;
/** Longest path segment in UTF-8 bytes (the usual filesystem `NAME_MAX`). */
export const MAX_SEGMENT_BYTES = 255;
/**
 * Longest output prefix in UTF-8 bytes: what the workers write under a prefix
 * (`subtitles/sub_pt-BR_sidecar99.vtt`, `trickplay/sprite_099.jpg`, …) must
 * still fit in {@link MAX_KEY_BYTES}.
 */
export const MAX_PREFIX_BYTES = 960;

const SEGMENT = String.raw`(?!\.\.?(?:/|$))(?!\.partial-)[^/\\\u0000-\u001f\u007f]+`;
/**
 * {@link keyProblem} as one regular expression (ECMAScript syntax, so JSON
 * Schema `pattern` can carry it), except the byte lengths.
 */
export const KEY_PATTERN = new RegExp(`^${SEGMENT}(?:/${SEGMENT})*$`);
/** {@link prefixProblem} as one regular expression, except the byte length. */
export const PREFIX_PATTERN = new RegExp(`^(?:${SEGMENT}(?:/${SEGMENT})*/?)?$`);

const bytes = (value: string) => Buffer.byteLength(value, 'utf8');
/** Whether `value` is over `max` UTF-8 bytes; a string of n UTF-16 units has at most 3n, so short ones are not counted. */
const overBytes = (value: string, max: number) => value.length * 3 > max && bytes(value) > max;

/** Why `bucket` is not a valid bucket name, or `undefined` when it is. */
export function bucketProblem(bucket: unknown): string | undefined {
  if (typeof bucket !== 'string' || !BUCKET_PATTERN.test(bucket)) {
    return 'expected a bucket name: 3-63 of a-z, 0-9, . and -';
  }
  return undefined;
}

/**
 * Why `key` is not a valid object key, or `undefined` when it is. A key is a
 * relative path of at most {@link MAX_KEY_BYTES} bytes: no leading or doubled
 * `/`, no trailing `/`, no `.` or `..` segment, no segment over
 * {@link MAX_SEGMENT_BYTES} bytes or starting with `.partial-`, no backslash
 * or control character.
 */
export function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string' || key === '') return 'must not be empty';
  if (overBytes(key, MAX_KEY_BYTES)) return `must be at most ${MAX_KEY_BYTES} bytes`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects
  if (/[\u0000-\u001f\u007f\\]/.test(key)) return 'must not contain control characters or backslashes';
  for (const segment of key.split('/')) {
    if (segment === '') return "must be a relative path without empty segments (no leading, trailing or doubled '/')";
    if (segment === '.' || segment === '..') return "must not contain '.' or '..' segments";
    if (segment.startsWith(TEMP_MARK)) return `must not contain a segment starting with '${TEMP_MARK}'`;
    if (overBytes(segment, MAX_SEGMENT_BYTES)) return `must not contain a segment over ${MAX_SEGMENT_BYTES} bytes`;
  }
  return undefined;
}

/**
 * Why `prefix` is not a valid output prefix, or `undefined` when it is: empty
 * (the bucket root), or a valid key with an optional trailing `/`, at most
 * {@link MAX_PREFIX_BYTES} bytes.
 */
export function prefixProblem(prefix: unknown): string | undefined {
  if (typeof prefix !== 'string') return 'must be a string';
  if (prefix === '') return undefined;
  if (overBytes(prefix, MAX_PREFIX_BYTES)) return `must be at most ${MAX_PREFIX_BYTES} bytes`;
  return keyProblem(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}
