/** Stable codes carried by every error this package throws. */
export type RedisKeysErrorCode = 'INVALID_ID' | 'INVALID_REDIS_CONFIG' | 'NOT_REPLICATED';

/**
 * Base class of this package's errors. Branch on `code`, never on the message.
 */
export class RedisKeysError extends Error {
  readonly code: RedisKeysErrorCode;

  constructor(code: RedisKeysErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * An id that would go into a key does not match {@link SAFE_ID_PATTERN}.
 * `field` names the id (for example `sessionId`) so HTTP layers can report it.
 */
export class InvalidIdError extends RedisKeysError {
  readonly field: string;

  constructor(field: string, reason: string) {
    super('INVALID_ID', `${field} ${reason}`);
    this.field = field;
  }
}

/**
 * A Redis connection variable is malformed. `variable` is the environment
 * variable at fault (for example `REDIS_PORT` or `CACHE_REDIS_URL`).
 */
export class RedisConfigError extends RedisKeysError {
  readonly variable: string;
  /** What is wrong with it, without the variable's name. */
  readonly reason: string;

  constructor(variable: string, reason: string, options?: { cause?: unknown }) {
    super('INVALID_REDIS_CONFIG', `${variable}: ${reason}`, options);
    this.variable = variable;
    this.reason = reason;
  }
}

/**
 * A write was applied on the master but fewer replicas than asked acknowledged it in time
 * (`WAIT`, see `REDIS_WAIT_REPLICAS`): a failover now could lose it, so it is not reported as done.
 */
export class NotReplicatedError extends RedisKeysError {
  readonly acknowledged: number;

  constructor(wanted: number, acknowledged: number, timeoutMs: number) {
    super('NOT_REPLICATED', `${acknowledged} of ${wanted} replica(s) acknowledged the write within ${timeoutMs} ms`);
    this.name = 'NotReplicatedError';
    this.acknowledged = acknowledged;
  }
}

/**
 * True when Redis refused a write because it is full: its `OOM` error reply, sent at maxmemory
 * under `noeviction`. The one place that reads Redis's error code for it.
 */
export function isRedisFull(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'ReplyError' && /^OOM\b/.test(String((error as Error).message));
}
