import type { QueueName } from '@nself-tv/redis-keys';
import type { z } from 'zod';
import { PayloadError, type PayloadIssue } from '../errors.js';
import { optimizePayload, optimizeResult, posterPayload, posterResult, spritePayload, spriteResult } from './image.js';
import {
  subtitlePayload,
  subtitleResult,
  transcodePayload,
  transcodeResult,
  trickplayPayload,
  trickplayResult,
} from './video.js';

/** The payload schema of each queue, shared by every producer and consumer. */
export const PAYLOAD_SCHEMAS = {
  'video:transcode': transcodePayload,
  'video:trickplay': trickplayPayload,
  'video:subtitle': subtitlePayload,
  'image:poster': posterPayload,
  'image:sprite': spritePayload,
  'image:optimize': optimizePayload,
} as const satisfies Record<QueueName, z.ZodType>;

/** The result schema of each queue, so status readers get typed results. */
export const RESULT_SCHEMAS = {
  'video:transcode': transcodeResult,
  'video:trickplay': trickplayResult,
  'video:subtitle': subtitleResult,
  'image:poster': posterResult,
  'image:sprite': spriteResult,
  'image:optimize': optimizeResult,
} as const satisfies Record<QueueName, z.ZodType>;

/** What a producer passes for a queue (defaults may be left out). */
export type PayloadInput<Q extends QueueName> = z.input<(typeof PAYLOAD_SCHEMAS)[Q]>;
/** What a processor receives for a queue (defaults filled in). */
export type Payload<Q extends QueueName> = z.output<(typeof PAYLOAD_SCHEMAS)[Q]>;
/** What a processor returns for a queue. */
export type JobResult<Q extends QueueName> = z.output<(typeof RESULT_SCHEMAS)[Q]>;

const dotted = (path: readonly PropertyKey[]) =>
  path
    .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
    .join('.')
    .replace(/\.\[/g, '[');

function toIssues(error: z.ZodError, pathPrefix = ''): PayloadIssue[] {
  return error.issues.flatMap((issue) =>
    // An unknown field is named by its own path, so an HTTP 400 can say which one.
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: pathPrefix + dotted([...issue.path, key]), message: 'unknown field' }))
      : [{ path: pathPrefix + dotted(issue.path), message: issue.message }],
  );
}

/**
 * Validates a payload for `queue` and returns it with defaults filled in.
 * @throws PayloadError `INVALID_PAYLOAD` naming the field.
 */
export function parsePayload<Q extends QueueName>(queue: Q, payload: unknown, pathPrefix = ''): Payload<Q> {
  const parsed = PAYLOAD_SCHEMAS[queue].safeParse(payload);
  if (!parsed.success) throw new PayloadError('INVALID_PAYLOAD', queue, toIssues(parsed.error, pathPrefix));
  return parsed.data as Payload<Q>;
}

/**
 * Validates a processor's result for `queue`.
 * @throws PayloadError `INVALID_RESULT` naming the field.
 */
export function parseResult<Q extends QueueName>(queue: Q, result: unknown): JobResult<Q> {
  const parsed = RESULT_SCHEMAS[queue].safeParse(result);
  if (!parsed.success) throw new PayloadError('INVALID_RESULT', queue, toIssues(parsed.error));
  return parsed.data as JobResult<Q>;
}
