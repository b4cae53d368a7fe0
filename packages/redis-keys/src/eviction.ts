import type { Redis } from 'ioredis';
import { masterNodes, type RedisClient } from './connections.js';

/** What the server says about memory limits and eviction. */
export interface EvictionInfo {
  /** `maxmemory-policy`, for example `noeviction` or `allkeys-lru`. */
  readonly policy: string;
  /** `maxmemory` in bytes; 0 means no limit. */
  readonly maxmemoryBytes: number;
  /** True when queues are safe on this server (`noeviction`). */
  readonly safeForQueues: boolean;
}

function field(info: string, name: string): string | undefined {
  const line = info.split(/\r?\n/).find((l) => l.startsWith(`${name}:`));
  return line?.slice(name.length + 1).trim();
}

/**
 * Reads the eviction policy from `INFO memory` (works where `CONFIG` is
 * disabled, as on many managed Redis services).
 */
export async function getEvictionInfo(client: RedisClient): Promise<EvictionInfo> {
  // On a cluster every master holds queue keys: the first one that may evict speaks for all.
  const all = await Promise.all((await masterNodes(client)).map(readEviction));
  return all.find((e) => !e.safeForQueues) ?? (all[0] as EvictionInfo);
}

async function readEviction(client: Redis): Promise<EvictionInfo> {
  const info = await client.info('memory');
  const policy = field(info, 'maxmemory_policy') ?? 'unknown';
  return {
    policy,
    maxmemoryBytes: Number(field(info, 'maxmemory') ?? 0),
    safeForQueues: policy === 'noeviction',
  };
}

/**
 * A start-up warning for workers when the server may evict keys, or
 * `undefined` when it is configured for queues.
 */
export async function queueEvictionWarning(client: RedisClient): Promise<string | undefined> {
  const { policy } = await getEvictionInfo(client);
  if (policy === 'noeviction') return undefined;
  return `Redis maxmemory-policy is '${policy}'; queues need 'noeviction' or jobs and their locks can be evicted and lost. Set 'maxmemory-policy noeviction' on this server, or give caches a separate Redis with CACHE_REDIS_URL.`;
}
