import { MAX_ID_LENGTH, SAFE_ID_PATTERN } from '@nself-tv/redis-keys';
import { z } from 'zod';

/** An id that may go into a Redis key or a BullMQ job id (the redis-keys rule). */
export const safeId = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`)
  .regex(SAFE_ID_PATTERN, "allowed are letters, digits, '-', '_' and '.'");

/** S3-style bucket name: 3–63 lowercase letters, digits, `.` and `-`. */
export const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected a bucket name: 3-63 of a-z, 0-9, . and -');

const hasBadSegment = (value: string) =>
  value.startsWith('/') || value.split('/').some((segment) => segment === '..' || segment === '.');

/** An object key inside a bucket: relative, no `.`/`..` segments, no control characters. */
export const objectKey = z
  .string()
  .min(1, 'must not be empty')
  .max(1024, 'must be at most 1024 characters')
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects
  .refine((v) => !/[\u0000-\u001f\u007f\\]/.test(v), 'must not contain control characters or backslashes')
  .refine((v) => !hasBadSegment(v) && !v.endsWith('/'), "must be a relative key without '.' or '..' segments");

/** A key prefix (folder) inside a bucket; empty means the bucket root. */
export const objectPrefix = z
  .string()
  .max(1024, 'must be at most 1024 characters')
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects
  .refine((v) => !/[\u0000-\u001f\u007f\\]/.test(v), 'must not contain control characters or backslashes')
  .refine((v) => v === '' || !hasBadSegment(v.replace(/\/$/, '')), "must be relative without '.' or '..' segments");

/** Where a stored object is: a bucket and a key. Never a URL. */
export const storageLocation = z.object({ bucket: bucketName, key: objectKey }).strict();
/** Where outputs go: a bucket and a key prefix. */
export const outputLocation = z.object({ bucket: bucketName, prefix: objectPrefix }).strict();

/** BCP 47-like language tag (`en`, `eng`, `pt-BR`). */
export const languageTag = z
  .string()
  .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'expected a language tag like en or pt-BR');

export type StorageLocation = z.infer<typeof storageLocation>;
export type OutputLocation = z.infer<typeof outputLocation>;

/** Fields every media job carries. */
export const mediaFields = {
  mediaId: safeId,
  familyId: safeId,
  ingestId: safeId.optional(),
};
