import { isRedisFull } from '@nself-tv/redis-keys';

/** Stable codes of this package's errors. */
export type SessionErrorCode =
  | 'INVALID_SESSION_CONFIG'
  | 'INVALID_SESSION_INPUT'
  /** Redis did not answer (refused, closed, timed out): nothing is known to have changed; retry. */
  | 'REDIS_UNAVAILABLE'
  /** Redis refused the write: maxmemory reached under noeviction. Nothing was written. */
  | 'REDIS_FULL'
  /** Written on the master, but fewer replicas than asked have it (`REDIS_WAIT_REPLICAS`). */
  | 'NOT_REPLICATED';

/**
 * Thrown for bad configuration or input, and for a Redis that does not
 * answer, is full or did not replicate (`REDIS_UNAVAILABLE`, `REDIS_FULL`,
 * `NOT_REPLICATED`: the store's own codes, so callers never read ioredis's
 * messages) (an id that breaks the key rule is
 * `INVALID_SESSION_INPUT` with the field named). Limit rejections, unknown
 * sessions and ownership failures are results, not errors.
 */
export class SessionError extends Error {
  readonly code: SessionErrorCode;
  readonly field: string | undefined;

  constructor(code: SessionErrorCode, message: string, options?: { cause?: unknown; field?: string }) {
    super(message, options);
    this.name = 'SessionError';
    this.code = code;
    this.field = options?.field;
  }
}

/** A failure of a Redis call as the store reports it, by code; its own errors pass through. */
export function sessionRedisFailure(what: string, error: unknown): unknown {
  if (error instanceof SessionError) return error;
  const code: SessionErrorCode =
    (error as { code?: unknown } | null)?.code === 'NOT_REPLICATED'
      ? 'NOT_REPLICATED'
      : isRedisFull(error)
        ? 'REDIS_FULL'
        : 'REDIS_UNAVAILABLE';
  return new SessionError(code, `${what}: ${(error as Error).message}`, { cause: error });
}
