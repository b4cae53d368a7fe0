// Shared by this package's tests only (not exported).

import { createKeyspace, createRequestConnection, loadRedisConfig, type RedisClient } from '@nself-tv/redis-keys';
import { afterAll } from 'vitest';
import { type Cache, type CacheOptions, createCache } from './cache.js';
import type { CacheEvent } from './events.js';

/** Caches on the Redis `env` names (a server or a cluster) under `namespace`, closed after the file. */
export function cacheKit(env: Record<string, string>, namespace: string) {
  const clients: RedisClient[] = [];
  const caches: Cache[] = [];
  afterAll(async () => {
    await Promise.all(caches.map((c) => c.close()));
    for (const c of clients) c.disconnect();
  });
  const connection = (commandTimeoutMs = 200) => {
    const client = createRequestConnection(loadRedisConfig(env), { commandTimeoutMs });
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  };
  // Cache keys are the same on a server and on a cluster.
  const keyspace = createKeyspace({ namespace, cluster: env.REDIS_CLUSTER_NODES !== undefined });
  return {
    keyspace,
    connection,
    cache(options: Partial<CacheOptions> = {}, commandTimeoutMs = 200) {
      const events: CacheEvent[] = [];
      const cache = createCache({
        connection: connection(commandTimeoutMs),
        keyspace,
        onEvent: (e) => events.push(e),
        ...options,
      });
      caches.push(cache);
      return { cache, events };
    },
  };
}

/** A loader that counts its calls. */
export function countingLoader<T>(value: T | (() => T), delayMs = 0) {
  const loader = Object.assign(
    async () => {
      loader.calls += 1;
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      return typeof value === 'function' ? (value as () => T)() : value;
    },
    { calls: 0 },
  );
  return loader;
}
