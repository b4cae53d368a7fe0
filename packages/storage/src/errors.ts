/** Stable codes of storage errors. */
export type StorageErrorCode =
  | 'INVALID_LOCATION'
  | 'NOT_FOUND'
  | 'ACCESS_DENIED'
  | 'STORE_UNAVAILABLE'
  /** A media item's access record that the ingest did not write (too large, not its shape). */
  | 'INVALID_RECORD';

/**
 * A storage failure. `INVALID_LOCATION`, `NOT_FOUND`, `ACCESS_DENIED` and `INVALID_RECORD` are the same on every
 * attempt (final under the queues' retry policy); `STORE_UNAVAILABLE` is retried.
 */
export class StorageError extends Error {
  readonly code: StorageErrorCode;

  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
    this.code = code;
  }
}
