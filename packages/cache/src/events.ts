/** What the cache reports, for metrics and logs. `entry` is the entry name, never the key. */
export type CacheEvent =
  | { type: 'hit'; entry: string; tier: 'local' | 'redis' }
  | { type: 'miss'; entry: string; reason: 'absent' | 'corrupt' | 'expired' | 'unavailable' | 'coalesced' }
  | { type: 'stale'; entry: string; reason: 'revalidating' | 'loader_failed' }
  | { type: 'load'; entry: string; durationMs: number; ok: boolean }
  | { type: 'loader_error'; entry: string; error: unknown }
  | { type: 'redis_error'; entry: string | undefined; operation: string; timeout: boolean; error: unknown }
  | { type: 'breaker'; open: boolean };

/** Receives {@link CacheEvent}s; it must not throw. */
export type CacheEventListener = (event: CacheEvent) => void;
