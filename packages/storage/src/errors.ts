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

/**
 * Whether each code is the same on every attempt (`final`) or may pass (`retry`): a location that
 * leaves its bucket, a missing object, denied access and a foreign record never change; a store
 * that does not answer may. Typed over every code, so a new code does not compile until placed.
 * A job framework composes this table with the other packages' (the worker apps' `RETRY_POLICY`).
 */
export const STORAGE_ERROR_FINALITY: Readonly<Record<StorageErrorCode, 'final' | 'retry'>> = {
  INVALID_LOCATION: 'final',
  NOT_FOUND: 'final',
  ACCESS_DENIED: 'final',
  INVALID_RECORD: 'final',
  STORE_UNAVAILABLE: 'retry',
};
