import { safeIdSchema } from '@nself-tv/redis-keys';
import {
  BUCKET_PATTERN,
  KEY_PATTERN,
  keyProblem,
  MAX_KEY_BYTES,
  MAX_PREFIX_BYTES,
  PREFIX_PATTERN,
  prefixProblem,
} from '@nself-tv/storage';
import { z } from 'zod';

/** An id that may go into a Redis key or a BullMQ job id (the redis-keys schema). */
export const safeId = safeIdSchema;

/** A storage rule as a zod check: the rule's own message; half the cost of `superRefine` on every enqueue. */
const rule =
  (problem: (value: unknown) => string | undefined) =>
  (ctx: z.core.ParsePayload<string>): void => {
    const message = problem(ctx.value);
    if (message) ctx.issues.push({ code: 'custom', message, input: ctx.value });
  };

/** S3-style bucket name: 3–63 lowercase letters, digits, `.` and `-` (the storage rule). */
export const bucketName = z.string().regex(BUCKET_PATTERN, 'expected a bucket name: 3-63 of a-z, 0-9, . and -');

/**
 * An object key, by the rule every store applies (`keyProblem` of
 * `@nself-tv/storage`); the pattern and length are repeated in the JSON Schema.
 */
export const objectKey = z
  .string()
  .max(MAX_KEY_BYTES)
  .check(rule(keyProblem))
  .meta({ pattern: KEY_PATTERN.source, description: `a relative key, at most ${MAX_KEY_BYTES} UTF-8 bytes` });

/** A key prefix (folder) inside a bucket; empty means the bucket root. */
export const objectPrefix = z
  .string()
  .max(MAX_PREFIX_BYTES)
  .check(rule(prefixProblem))
  .meta({ pattern: PREFIX_PATTERN.source, description: `a key prefix, at most ${MAX_PREFIX_BYTES} UTF-8 bytes` });

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
