import type { CircuitBreaker } from './breaker.js';
import type { CacheEvent } from './events.js';

/** What a guarded call returns instead of a result when Redis was skipped or failed. */
export const SKIPPED = Symbol('skipped');

/** Runs one Redis call of the cache; `SKIPPED` when the breaker is open or the call failed. */
export type GuardedRedis = <R>(
  entry: string | undefined,
  operation: string,
  call: () => Promise<R>,
) => Promise<R | typeof SKIPPED>;

/**
 * Every Redis call of the cache goes through here: the circuit breaker, a
 * timeout when the connection has none of its own, and failures reported as
 * events and swallowed, so Redis never fails a read.
 */
export function guardedRedis(
  breaker: CircuitBreaker,
  timeoutMs: number | undefined,
  emit: (event: CacheEvent) => void,
): GuardedRedis {
  return async (entry, operation, call) => {
    if (!breaker.allow()) return SKIPPED;
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = timeoutMs
        ? await Promise.race([
            call(),
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error(`Command timed out after ${timeoutMs} ms`)), timeoutMs);
            }),
          ])
        : await call();
      breaker.success();
      return result;
    } catch (error) {
      // An error reply (OOM, WRONGTYPE) comes from a live server: report it, but do not trip the breaker.
      if (error instanceof Error && error.name === 'ReplyError') breaker.success();
      else breaker.failure();
      const timeout = error instanceof Error && /timed out/i.test(error.message);
      emit({ type: 'redis_error', entry, operation, timeout, error });
      return SKIPPED;
    } finally {
      if (timer) clearTimeout(timer);
    }
  };
}
