import { randomBytes } from 'node:crypto';
import { createKeyspace, defineLuaScript, type Keyspace } from '@nself-tv/redis-keys';
import type { Redis } from 'ioredis';
import { type BreakerOptions, CircuitBreaker } from './breaker.js';
import type { EntryDefinition, EntryOptions } from './entries.js';
import { CacheError } from './errors.js';
import type { CacheEvent, CacheEventListener } from './events.js';
import { LocalTier } from './lru.js';
import releaseLockSource from './release-lock.lua';

const releaseLock = defineLuaScript(releaseLockSource);

/** Options of {@link createCache}. */
export interface CacheOptions {
  /**
   * A request-path connection (`createRequestConnection(loadRedisConfig(env, 'cache'))`):
   * its command timeout bounds every Redis call. Not closed by the cache.
   */
  connection: Redis;
  /** @default createKeyspace() */
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
  subscriber?: Redis;
  /** Receives hits, misses, stale serves, loads, errors and breaker changes. */
  onEvent?: CacheEventListener;
}

/** An entry bound to a cache. */
export interface BoundEntry<T, P extends unknown[]> {
  /**
   * Cache-aside read: the cached value, or the loader's (then stored). A loader
   * result of `undefined` is returned but not stored. Never fails because of
   * Redis; fails with the loader's error when there is no stale value to serve.
   */
  getOrSet(params: P, loader: () => Promise<T>): Promise<T>;
  /** The cached value, or `undefined` (no loader). */
  get(params: P): Promise<T | undefined>;
  /** Stores a value (for example after a write-through). Failures are reported as events, not thrown. */
  set(params: P, value: T): Promise<void>;
  /** Deletes one key, here and in every instance's first tier. */
  invalidate(params: P): Promise<void>;
  /** Deletes every key of the entry with SCAN (never KEYS); returns how many were deleted. */
  invalidateAll(): Promise<number>;
  /** The Redis key for `params`. */
  key(params: P): string;
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

const SKIPPED = Symbol('skipped');
type Read = { state: 'fresh' | 'stale'; value: unknown } | { state: 'absent' | 'corrupt' | 'unavailable' };

const defaultIsEmpty = (value: unknown) =>
  value === null ||
  (Array.isArray(value) && value.length === 0) ||
  (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0);

/**
 * Creates a cache.
 *
 * @example
 * const cache = createCache({ connection: createRequestConnection(loadRedisConfig(process.env, 'cache')) });
 * const trending = cache.entry(entries.trending(z.array(z.object({ id: z.string() }))));
 * const items = await trending.getOrSet([], () => db.trending());
 */
export function createCache(options: CacheOptions): Cache {
  const keys = options.keyspace ?? createKeyspace();
  const connection = options.connection;
  const jitter = options.jitter ?? 0.1;
  if (!(jitter >= 0 && jitter < 1))
    throw new CacheError('INVALID_CACHE_CONFIG', `jitter must be in [0, 1), got ${jitter}`);
  const emptyTtl = options.emptyTtlSeconds ?? 30;
  const ownTimeout = typeof connection.options.commandTimeout === 'number' ? undefined : (options.timeoutMs ?? 100);
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
  const inflight = new Map<string, Promise<unknown>>();
  const refreshing = new Set<string>();
  const channel = keys.cacheInvalidationChannel();

  let subscriber: Redis | undefined;
  if (local) {
    subscriber =
      options.subscriber ??
      connection.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined });
    subscriber.on('error', () => undefined);
    subscriber.on('message', (ch: string, message: string) => {
      if (ch !== channel) return;
      try {
        const msg = JSON.parse(message) as { key?: string; prefix?: string };
        if (typeof msg.key === 'string') local.delete(msg.key);
        if (typeof msg.prefix === 'string') local.deletePrefix(msg.prefix);
      } catch {
        // Not one of ours.
      }
    });
    void subscriber.subscribe(channel).catch(() => undefined);
  }

  /** Runs one Redis call through the breaker and the timeout; reports and swallows failures. */
  async function redis<R>(
    entry: string | undefined,
    operation: string,
    call: () => Promise<R>,
  ): Promise<R | typeof SKIPPED> {
    if (!breaker.allow()) return SKIPPED;
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = ownTimeout
        ? await Promise.race([
            call(),
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error(`Command timed out after ${ownTimeout} ms`)), ownTimeout);
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
  }

  const ttlFor = (seconds: number) => {
    const factor = 1 + (Math.random() * 2 - 1) * jitter;
    return Math.max(1, Math.round(seconds * factor));
  };

  function bind<T, P extends unknown[]>(def: EntryDefinition<T, P>): BoundEntry<T, P> {
    const o: EntryOptions = def.options;
    const graceMs = (o.graceSeconds ?? 0) * 1000;
    const isEmpty = o.isEmpty ?? defaultIsEmpty;
    const useLocal = local !== undefined && o.localTier !== false;
    const lock = o.lock ? { ...lockDefaults, ...(typeof o.lock === 'object' ? o.lock : {}) } : undefined;
    const name = def.name;

    const decode = (raw: string): { ok: true; value: T } | { ok: false } => {
      try {
        const parsed = def.schema.safeParse(JSON.parse(raw));
        return parsed.success ? { ok: true, value: parsed.data } : { ok: false };
      } catch {
        return { ok: false };
      }
    };

    async function read(key: string): Promise<Read> {
      const got =
        graceMs > 0
          ? await redis(name, 'get', async () => {
              const [[, raw], [, pttl]] = ((await connection.pipeline().get(key).pttl(key).exec()) ?? []) as [
                [unknown, string | null],
                [unknown, number],
              ];
              return { raw, pttl };
            })
          : await redis(name, 'get', async () => ({ raw: await connection.get(key), pttl: -1 }));
      if (got === SKIPPED) return { state: 'unavailable' };
      if (got.raw === null) return { state: 'absent' };
      const decoded = decode(got.raw);
      if (!decoded.ok) return { state: 'corrupt' };
      const stale = graceMs > 0 && got.pttl >= 0 && got.pttl <= graceMs;
      return { state: stale ? 'stale' : 'fresh', value: decoded.value };
    }

    async function write(key: string, value: T): Promise<void> {
      const empty = isEmpty(value);
      const seconds = empty ? (o.emptyTtlSeconds ?? emptyTtl) : ttlFor(def.ttlSeconds) + (o.graceSeconds ?? 0);
      if (useLocal) local?.set(key, value, empty ? seconds * 1000 : undefined);
      await redis(name, 'set', () => connection.set(key, JSON.stringify(value), 'EX', seconds));
    }

    /** Waits for another process's refill; `undefined` when it did not come. */
    async function waitForFill(
      key: string,
      lockKey: string,
      waitMs: number,
      pollMs: number,
    ): Promise<{ value: T } | undefined> {
      const deadline = Date.now() + waitMs;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, pollMs));
        const got = await redis(name, 'get', async () => {
          const [[, raw], [, held]] = ((await connection.pipeline().get(key).exists(lockKey).exec()) ?? []) as [
            [unknown, string | null],
            [unknown, number],
          ];
          return { raw, held };
        });
        if (got === SKIPPED) return undefined;
        if (got.raw !== null) {
          const decoded = decode(got.raw);
          if (decoded.ok) return { value: decoded.value };
        }
        if (got.held === 0) return undefined;
      }
      return undefined;
    }

    async function load(key: string, loader: () => Promise<T>, stale: { value: T } | undefined): Promise<T> {
      let token: string | undefined;
      const lockKey = lock ? keys.cacheLock(key) : undefined;
      if (lock && lockKey) {
        const candidate = randomBytes(12).toString('hex');
        const acquired = await redis(name, 'lock', () => connection.set(lockKey, candidate, 'PX', lock.ttlMs, 'NX'));
        if (acquired === 'OK') token = candidate;
        else if (acquired !== SKIPPED) {
          const filled = await waitForFill(key, lockKey, lock.waitMs, lock.pollMs);
          if (filled) {
            if (useLocal) local?.set(key, filled.value);
            return filled.value;
          }
        }
      }
      const started = performance.now();
      try {
        let value: T;
        try {
          value = await loader();
        } catch (error) {
          emit({ type: 'load', entry: name, durationMs: performance.now() - started, ok: false });
          emit({ type: 'loader_error', entry: name, error });
          if (stale) {
            emit({ type: 'stale', entry: name, reason: 'loader_failed' });
            return stale.value;
          }
          throw error;
        }
        emit({ type: 'load', entry: name, durationMs: performance.now() - started, ok: true });
        if (value !== undefined) await write(key, value);
        return value;
      } finally {
        if (token && lockKey) {
          const held = token;
          await redis(name, 'unlock', () => releaseLock.run(connection, [lockKey], [held]));
        }
      }
    }

    function refreshInBackground(key: string, loader: () => Promise<T>, stale: { value: T }) {
      if (refreshing.has(key)) return;
      refreshing.add(key);
      load(key, loader, stale)
        .catch(() => undefined)
        .finally(() => refreshing.delete(key));
    }

    async function getOrSetKey(key: string, loader: () => Promise<T>): Promise<T> {
      const read0 = await read(key);
      if (read0.state === 'fresh') {
        if (useLocal) local?.set(key, read0.value);
        emit({ type: 'hit', entry: name, tier: 'redis' });
        return read0.value as T;
      }
      if (read0.state === 'stale') {
        const stale = { value: read0.value as T };
        if (o.staleWhileRevalidate) {
          emit({ type: 'stale', entry: name, reason: 'revalidating' });
          refreshInBackground(key, loader, stale);
          return stale.value;
        }
        emit({ type: 'miss', entry: name, reason: 'expired' });
        return load(key, loader, stale);
      }
      emit({ type: 'miss', entry: name, reason: read0.state });
      return load(key, loader, undefined);
    }

    return {
      key: (params) => def.key(keys, ...params),
      async getOrSet(params, loader) {
        const key = def.key(keys, ...params);
        if (useLocal) {
          const hit = local?.get(key);
          if (hit) {
            emit({ type: 'hit', entry: name, tier: 'local' });
            return hit.value as T;
          }
        }
        const pending = inflight.get(key);
        if (pending) {
          emit({ type: 'miss', entry: name, reason: 'coalesced' });
          return pending as Promise<T>;
        }
        const promise = getOrSetKey(key, loader);
        inflight.set(key, promise);
        try {
          return await promise;
        } finally {
          inflight.delete(key);
        }
      },
      async get(params) {
        const key = def.key(keys, ...params);
        const hit = useLocal ? local?.get(key) : undefined;
        if (hit) return hit.value as T;
        const r = await read(key);
        return r.state === 'fresh' || r.state === 'stale' ? (r.value as T) : undefined;
      },
      set: (params, value) => write(def.key(keys, ...params), value),
      invalidate: (params) => cache.invalidateKey(def.key(keys, ...params)),
      async invalidateAll() {
        let total = 0;
        for (const pattern of def.patterns(keys)) total += await cache.invalidatePattern(pattern);
        return total;
      },
    };
  }

  const cache: Cache = {
    entry: bind,
    async invalidateKey(key) {
      local?.delete(key);
      await redis(undefined, 'invalidate', () => connection.del(key));
      await redis(undefined, 'publish', () => connection.publish(channel, JSON.stringify({ key })));
    },
    async invalidatePattern(pattern) {
      const prefix = pattern.endsWith('*') ? pattern.slice(0, -1) : undefined;
      if (prefix === undefined) {
        const before = await redis(undefined, 'invalidate', () => connection.del(pattern));
        local?.delete(pattern);
        await redis(undefined, 'publish', () => connection.publish(channel, JSON.stringify({ key: pattern })));
        return before === SKIPPED ? 0 : before;
      }
      let removed = 0;
      let cursor = '0';
      do {
        const page = await redis(undefined, 'scan', () => connection.scan(cursor, 'MATCH', pattern, 'COUNT', 500));
        if (page === SKIPPED) break;
        const [next, found] = page;
        cursor = next;
        if (found.length > 0) {
          const n = await redis(undefined, 'invalidate', () => connection.unlink(...found));
          if (n !== SKIPPED) removed += n;
        }
      } while (cursor !== '0');
      local?.deletePrefix(prefix);
      await redis(undefined, 'publish', () => connection.publish(channel, JSON.stringify({ prefix })));
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
