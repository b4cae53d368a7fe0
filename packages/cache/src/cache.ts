import {
  duplicateConnection,
  isCluster,
  type Keyspace,
  keyspaceFor,
  nodeOptions,
  type RedisClient,
  scanKeys,
} from '@nself-tv/redis-keys';
import { type BoundEntry, bindEntry, type CacheContext } from './bound-entry.js';
import { type BreakerOptions, CircuitBreaker } from './breaker.js';
import type { EntryDefinition } from './entries.js';
import { CacheError } from './errors.js';
import type { CacheEvent, CacheEventListener } from './events.js';
import { guardedRedis, SKIPPED } from './guarded-redis.js';
import { type Invalidation, subscribeInvalidations } from './invalidation-bus.js';
import { LocalTier } from './lru.js';

export type { BoundEntry } from './bound-entry.js';

/** Options of {@link createCache}. */
export interface CacheOptions {
  /**
   * A request-path connection (`createRequestConnection(loadRedisConfig(env, 'cache'))`):
   * its command timeout bounds every Redis call. Not closed by the cache.
   */
  connection: RedisClient;
  /** @default keyspaceFor(connection): the spec's keys, or the cluster layout on a cluster */
  keyspace?: Keyspace;
  /**
   * Bound on one Redis call when the connection has no `commandTimeout` of its own.
   * @default 100
   */
  timeoutMs?: number;
  /** TTL jitter as a fraction: 0.1 writes TTLs within ±10 %. @default 0.1 */
  jitter?: number;
  /** TTL of empty results. @default 30 */
  emptyTtlSeconds?: number;
  /** Circuit breaker in front of Redis. @default { failureThreshold: 5, cooldownMs: 5000 } */
  breaker?: BreakerOptions;
  /** Refill lock defaults for entries with `lock`. @default { ttlMs: 10000, waitMs: 10000, pollMs: 25 } */
  lock?: { ttlMs?: number; waitMs?: number; pollMs?: number };
  /**
   * In-process first tier in front of Redis. Invalidations are broadcast on
   * the cache invalidation channel (redis-keys) so other instances drop their copies.
   * @default off
   */
  localTier?: { maxEntries?: number; ttlMs?: number };
  /** Connection for the invalidation subscription. @default a duplicate of `connection` */
  subscriber?: RedisClient;
  /** Receives hits, misses, stale serves, loads, errors and breaker changes. */
  onEvent?: CacheEventListener;
}

/** Cache-aside over Redis. */
export interface Cache {
  entry<T, P extends unknown[]>(definition: EntryDefinition<T, P>): BoundEntry<T, P>;
  /** Deletes one key everywhere. */
  invalidateKey(key: string): Promise<void>;
  /** Deletes every key matching a SCAN pattern (`prefix*` or an exact key); returns the count. */
  invalidatePattern(pattern: string): Promise<number>;
  /** Drops the recently-added entry (cache recent); call it when an ingest completes. */
  invalidateRecent(): Promise<void>;
  /** True while the circuit breaker keeps Redis out of the read path. */
  readonly redisBypassed: boolean;
  /** Stops the invalidation subscription (closes the subscriber the cache created). */
  close(): Promise<void>;
}

/**
 * Creates a cache.
 *
 * @example
 * const cache = createCache({ connection: createRequestConnection(loadRedisConfig(process.env, 'cache')) });
 * const trending = cache.entry(entries.trending(z.array(z.object({ id: z.string() }))));
 * const items = await trending.getOrSet([], () => db.trending());
 */
export function createCache(options: CacheOptions): Cache {
  const keys = options.keyspace ?? keyspaceFor(options.connection);
  const connection = options.connection;
  const jitter = options.jitter ?? 0.1;
  if (!(jitter >= 0 && jitter < 1))
    throw new CacheError('INVALID_CACHE_CONFIG', `jitter must be in [0, 1), got ${jitter}`);
  const emptyTtl = options.emptyTtlSeconds ?? 30;
  const ownTimeout =
    typeof nodeOptions(connection).commandTimeout === 'number' ? undefined : (options.timeoutMs ?? 100);
  const lockDefaults = { ttlMs: 10_000, waitMs: 10_000, pollMs: 25, ...options.lock };
  const listener = options.onEvent;
  const emit = (event: CacheEvent) => {
    if (!listener) return;
    try {
      listener(event);
    } catch {
      // A listener's failure must not reach the read path.
    }
  };
  const breaker = new CircuitBreaker(options.breaker ?? {}, (open) => emit({ type: 'breaker', open }));
  const local = options.localTier
    ? new LocalTier(options.localTier.maxEntries ?? 10_000, options.localTier.ttlMs ?? 1000)
    : undefined;
  const channel = keys.cacheInvalidationChannel();

  let subscriber: RedisClient | undefined;
  if (local) {
    subscriber =
      options.subscriber ??
      duplicateConnection(connection, {
        enableOfflineQueue: true,
        maxRetriesPerRequest: null,
        commandTimeout: undefined,
      });
    subscribeInvalidations(subscriber, channel, local);
  }
  const redis = guardedRedis(breaker, ownTimeout, emit);
  // Tells every instance (this one included) to drop a key or a prefix from its first tier.
  const announce = (message: Invalidation) =>
    redis(undefined, 'publish', () => connection.publish(channel, JSON.stringify(message)));
  const context: CacheContext = {
    keys,
    connection,
    redis,
    local,
    emit,
    lockDefaults,
    emptyTtlSeconds: emptyTtl,
    ttlFor(seconds) {
      const factor = 1 + (Math.random() * 2 - 1) * jitter;
      return Math.max(1, Math.round(seconds * factor));
    },
    inflight: new Map(),
    refreshing: new Set(),
    invalidateKey: (key) => cache.invalidateKey(key),
    invalidatePattern: (pattern) => cache.invalidatePattern(pattern),
  };

  const cache: Cache = {
    entry: (definition) => bindEntry(definition, context),
    async invalidateKey(key) {
      local?.delete(key);
      await redis(undefined, 'invalidate', () => connection.del(key));
      await announce({ key });
    },
    async invalidatePattern(pattern) {
      const prefix = pattern.endsWith('*') ? pattern.slice(0, -1) : undefined;
      if (prefix === undefined) {
        const before = await redis(undefined, 'invalidate', () => connection.del(pattern));
        local?.delete(pattern);
        await announce({ key: pattern });
        return before === SKIPPED ? 0 : before;
      }
      let removed = 0;
      // Every master of a cluster; keys of one page can sit in different slots there, so one UNLINK each.
      const unlink = (found: string[]) =>
        isCluster(connection)
          ? Promise.all(found.map((key) => connection.unlink(key))).then((counts) => counts.reduce((a, b) => a + b, 0))
          : connection.unlink(...found);
      const pages = scanKeys(connection, pattern);
      for (;;) {
        const page = await redis(undefined, 'scan', () => pages.next());
        if (page === SKIPPED || page.done) break;
        const n = await redis(undefined, 'invalidate', () => unlink(page.value));
        if (n !== SKIPPED) removed += n;
      }
      local?.deletePrefix(prefix);
      await announce({ prefix });
      return removed;
    },
    invalidateRecent: () => cache.invalidateKey(keys.cacheRecent()),
    get redisBypassed() {
      return breaker.isOpen;
    },
    async close() {
      if (subscriber && !options.subscriber) await subscriber.quit().catch(() => subscriber?.disconnect());
    },
  };
  return cache;
}
