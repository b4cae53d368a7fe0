/** Stable codes of storage errors. */
export type StorageErrorCode = 'INVALID_LOCATION' | 'NOT_FOUND';

/** A storage failure a retry cannot fix; workers fail such jobs without retries. */
export class StorageError extends Error {
  readonly code: StorageErrorCode;

  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
    this.code = code;
  }
}
