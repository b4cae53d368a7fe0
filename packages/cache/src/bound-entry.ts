import { randomBytes } from 'node:crypto';
import { type Keyspace, type RedisClient, releaseHeldLock } from '@nself-tv/redis-keys';
import type { EntryDefinition, EntryOptions } from './entries.js';
import type { CacheEvent } from './events.js';
import { type GuardedRedis, SKIPPED } from './guarded-redis.js';
import type { LocalTier } from './lru.js';

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

/** What a bound entry shares with its cache. */
export interface CacheContext {
  keys: Keyspace;
  connection: RedisClient;
  redis: GuardedRedis;
  local: LocalTier | undefined;
  emit: (event: CacheEvent) => void;
  lockDefaults: { ttlMs: number; waitMs: number; pollMs: number };
  emptyTtlSeconds: number;
  /** The entry's TTL with the cache's jitter. */
  ttlFor(seconds: number): number;
  /** Refills under way in this process, by key, so concurrent readers share one. */
  inflight: Map<string, Promise<unknown>>;
  /** Keys refreshed in the background right now. */
  refreshing: Set<string>;
  invalidateKey(key: string): Promise<void>;
  invalidatePattern(pattern: string): Promise<number>;
}

type Read = { state: 'fresh' | 'stale'; value: unknown } | { state: 'absent' | 'corrupt' | 'unavailable' };

const defaultIsEmpty = (value: unknown) =>
  value === null ||
  (Array.isArray(value) && value.length === 0) ||
  (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0);

/**
 * One cache entry: reads with grace and stale-while-revalidate, the refill
 * lock so one process loads while others wait, and writes with jittered TTLs.
 */
export function bindEntry<T, P extends unknown[]>(def: EntryDefinition<T, P>, cache: CacheContext): BoundEntry<T, P> {
  const { keys, connection, redis, local, emit, inflight, refreshing } = cache;
  const o: EntryOptions = def.options;
  const graceMs = (o.graceSeconds ?? 0) * 1000;
  const isEmpty = o.isEmpty ?? defaultIsEmpty;
  const useLocal = local !== undefined && o.localTier !== false;
  const lock = o.lock ? { ...cache.lockDefaults, ...(typeof o.lock === 'object' ? o.lock : {}) } : undefined;
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
    const seconds = empty
      ? (o.emptyTtlSeconds ?? cache.emptyTtlSeconds)
      : cache.ttlFor(def.ttlSeconds) + (o.graceSeconds ?? 0);
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
      // Two commands sent together, not a pipeline: on a cluster the entry and its lock may sit in
      // different slots, and a pipeline across slots fails (the waiter would then load as well).
      const got = await redis(name, 'get', async () => {
        const [raw, held] = await Promise.all([connection.get(key), connection.exists(lockKey)]);
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
        await redis(name, 'unlock', () => releaseHeldLock(connection, lockKey, held));
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
