import { isRedisFull } from '@nself-tv/redis-keys';

/** Stable codes of this package's errors. */
export type QueueErrorCode =
  | 'INVALID_PAYLOAD'
  | 'INVALID_RESULT'
  | 'INVALID_QUEUE_CONFIG'
  | 'REDIS_UNAVAILABLE'
  /** Redis refused the write: maxmemory reached under noeviction. Nothing was written; retry once there is room. */
  | 'REDIS_FULL'
  /** Written on the master, but fewer replicas than asked have it: the job may exist; retry with its id. */
  | 'NOT_REPLICATED'
  | 'JOB_TIMEOUT'
  | 'JOB_CANCELLED'
  | 'INGEST_NOT_FOUND'
  /** The ingest id (an `Idempotency-Key`) names an ingest started with another request. */
  | 'INGEST_CONFLICT'
  /** The media item belongs to another family: an ingest of it would overwrite that family's HLS. */
  | 'MEDIA_OWNED'
  /** Too many new ingests: the family's per minute, or transcodes waiting overall. */
  | 'INGEST_LIMIT';

/** A failure of a Redis call as this package reports it: `REDIS_FULL` or `REDIS_UNAVAILABLE`. */
export function redisFailure(what: string, error: unknown): QueueError {
  const message = `${what}: ${(error as Error).message}`;
  return new QueueError(isRedisFull(error) ? 'REDIS_FULL' : 'REDIS_UNAVAILABLE', message, { cause: error });
}

/** Base class of this package's errors. Branch on `code`. */
export class QueueError extends Error {
  readonly code: QueueErrorCode;

  constructor(code: QueueErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One problem found in a payload. `path` is dotted, for example `source.key` or `[3].mediaId`. */
export interface PayloadIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * A job payload (or a result) does not match its queue's schema. The message
 * names the first field at fault; `issues` lists all of them.
 */
export class PayloadError extends QueueError {
  readonly queue: string;
  readonly issues: readonly PayloadIssue[];

  constructor(code: 'INVALID_PAYLOAD' | 'INVALID_RESULT', queue: string, issues: readonly PayloadIssue[]) {
    const first = issues[0];
    const what = code === 'INVALID_PAYLOAD' ? 'payload' : 'result';
    super(
      code,
      `invalid ${queue} ${what}: ${first ? `${first.path || '(root)'}: ${first.message}` : 'unknown problem'}`,
    );
    this.queue = queue;
    this.issues = issues;
  }

  /** The first field at fault, for HTTP 400 bodies. */
  get field(): string {
    return this.issues[0]?.path ?? '';
  }
}
