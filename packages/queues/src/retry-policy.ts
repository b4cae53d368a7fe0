import { UnrecoverableError } from 'bullmq';

/**
 * The retry policy, in one place: failures whose `code` is listed here are the
 * same on every attempt, so the job fails at once; any other failure is retried
 * up to the job's attempts with its backoff. Packages throw their own coded
 * errors and never decide this themselves.
 */
export const FINAL_ERROR_CODES: ReadonlySet<string> = new Set([
  // @nself-tv/queues
  'INVALID_PAYLOAD',
  'INVALID_RESULT',
  'JOB_CANCELLED',
  // @nself-tv/storage: a location that leaves its bucket, a missing object, denied access
  // (STORE_UNAVAILABLE, a store that does not answer, is retried)
  'INVALID_LOCATION',
  'NOT_FOUND',
  'ACCESS_DENIED',
  'INVALID_RECORD',
  // @nself-tv/media-tools
  'TOOL_MISSING',
  'REFUSED_INPUT',
  'NOT_MEDIA',
  'FRAME_TOO_LARGE',
]);

/** The stable code of a failure: its `code`, or `UNRECOVERABLE` for BullMQ's `UnrecoverableError`. */
export function failureCode(error: unknown): string | undefined {
  if (error instanceof UnrecoverableError) return 'UNRECOVERABLE';
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True when a retry cannot help: an `UnrecoverableError` or a code in {@link FINAL_ERROR_CODES}. */
export function isFinalFailure(error: unknown): boolean {
  if (error instanceof UnrecoverableError) return true;
  const code = failureCode(error);
  return code !== undefined && FINAL_ERROR_CODES.has(code);
}
