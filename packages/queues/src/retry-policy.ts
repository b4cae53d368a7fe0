import type { MediaErrorCode } from '@nself-tv/media-tools';
import type { StorageErrorCode } from '@nself-tv/storage';
import { UnrecoverableError } from 'bullmq';
import type { QueueErrorCode } from './errors.js';

/** Every code a job can fail with that this policy knows: the packages' own unions. */
export type FailureCode = QueueErrorCode | StorageErrorCode | MediaErrorCode;

/**
 * The retry policy, in one place: each code of the packages' errors is
 * `final` (the same on every attempt, so the job fails at once) or `retry`
 * (retried up to the job's attempts with its backoff). The table is typed from
 * the code unions, so a new code does not compile until it is placed here.
 * Packages and apps throw coded errors and never decide this themselves; the
 * queue worker alone reads this table (and hands BullMQ its
 * `UnrecoverableError`). A failure without a known code is retried.
 */
export const RETRY_POLICY: Readonly<Record<FailureCode, 'final' | 'retry'>> = {
  // @nself-tv/queues
  INVALID_PAYLOAD: 'final',
  INVALID_RESULT: 'final',
  INVALID_QUEUE_CONFIG: 'final',
  REDIS_UNAVAILABLE: 'retry',
  REDIS_FULL: 'retry',
  NOT_REPLICATED: 'retry',
  JOB_TIMEOUT: 'retry',
  JOB_CANCELLED: 'final',
  INGEST_NOT_FOUND: 'final',
  INGEST_CONFLICT: 'final',
  MEDIA_OWNED: 'final',
  INGEST_LIMIT: 'retry',
  // @nself-tv/storage: a location that leaves its bucket, a missing object, denied access;
  // a store that does not answer is retried
  INVALID_LOCATION: 'final',
  NOT_FOUND: 'final',
  ACCESS_DENIED: 'final',
  INVALID_RECORD: 'final',
  STORE_UNAVAILABLE: 'retry',
  // @nself-tv/media-tools: what the input is never changes; a tool run that failed may (memory, a signal)
  TOOL_MISSING: 'final',
  TOOL_FAILED: 'retry',
  REFUSED_INPUT: 'final',
  NOT_MEDIA: 'final',
  FRAME_TOO_LARGE: 'final',
  INPUT_TOO_LARGE: 'final',
  NO_VIDEO: 'final',
  NOT_DECODABLE: 'final',
};

/** The codes {@link RETRY_POLICY} calls final. */
export const FINAL_ERROR_CODES: ReadonlySet<string> = new Set(
  Object.entries(RETRY_POLICY)
    .filter(([, decision]) => decision === 'final')
    .map(([code]) => code),
);

/**
 * The code an ingest records for a failure that carries none of its own (a bug, an unexpected
 * library error): retried like any uncoded failure, and never a message to parse.
 */
export const UNCODED_FAILURE = 'INTERNAL_ERROR';

/** The stable code of a failure: its `code`, or `UNRECOVERABLE` for BullMQ's own `UnrecoverableError`. */
export function failureCode(error: unknown): string | undefined {
  if (error instanceof UnrecoverableError) return 'UNRECOVERABLE';
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True when a retry cannot help: a code {@link RETRY_POLICY} calls final (or BullMQ's `UnrecoverableError`). */
export function isFinalFailure(error: unknown): boolean {
  if (error instanceof UnrecoverableError) return true;
  const code = failureCode(error);
  return code !== undefined && FINAL_ERROR_CODES.has(code);
}
