import { UnrecoverableError } from 'bullmq';
import type { QueueErrorCode } from '../errors.js';

/** Whether a failure's code is the same on every attempt (`final`: the job fails at once) or may pass (`retry`). */
export type Finality = 'final' | 'retry';

/**
 * A retry policy: each known code's {@link Finality}. Each package declares the table of its own
 * codes (`QUEUE_ERROR_FINALITY` here, `STORAGE_ERROR_FINALITY`, `MEDIA_ERROR_FINALITY`); the app
 * that runs jobs composes them and hands the result to its workers. A failure whose code is not in
 * the policy is retried.
 */
export type RetryPolicy = Readonly<Record<string, Finality>>;

/**
 * This package's codes. Typed over every {@link QueueErrorCode}, so a new code does not compile
 * until it is placed here.
 */
export const QUEUE_ERROR_FINALITY: Readonly<Record<QueueErrorCode, Finality>> = {
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
};

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

/**
 * True when a retry cannot help: a code `policy` calls final (or BullMQ's `UnrecoverableError`).
 * @default policy {@link QUEUE_ERROR_FINALITY}
 */
export function isFinalFailure(error: unknown, policy: RetryPolicy = QUEUE_ERROR_FINALITY): boolean {
  if (error instanceof UnrecoverableError) return true;
  const code = failureCode(error);
  return code !== undefined && Object.hasOwn(policy, code) && policy[code] === 'final';
}
