/** Stable codes of this package's errors. */
export type CacheErrorCode = 'INVALID_CACHE_CONFIG' | 'INVALID_SEARCH_QUERY';

/**
 * The only errors the cache throws itself, at configuration time or for a bad
 * search query. Redis problems never surface as errors: the cache fails open.
 * A loader's own error reaches the caller unchanged (unless a stale value can be served).
 */
export class CacheError extends Error {
  readonly code: CacheErrorCode;

  constructor(code: CacheErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CacheError';
    this.code = code;
  }
}
