import { createRequestConnection, loadRedisConfig, type RedisClient, scanKeys } from '@nself-tv/redis-keys';
import { type RedisClusterHandle, startRedisCluster } from '@nself-tv/test-redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type Cache, createCache } from './cache.js';
import { entries } from './entries.js';

// The cache on a real 3-master Redis Cluster: entries, the refill lock, SCAN invalidation across
// masters and the first tier's invalidation bus.
let cluster: RedisClusterHandle;
const clients: RedisClient[] = [];
const caches: Cache[] = [];
const connect = () => {
  const client = createRequestConnection(loadRedisConfig(cluster.env, 'cache'), { commandTimeoutMs: 2000 });
  client.on('error', () => undefined);
  clients.push(client);
  return client;
};
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 30_000);
afterAll(async () => {
  await Promise.all(caches.map((c) => c.close()));
  for (const c of clients) c.disconnect();
  await cluster.close();
});

const media = z.array(z.object({ id: z.string() }));

describe('cache on a Redis Cluster', () => {
  it('serves entries with the refill lock, and invalidates a pattern whose keys sit on every master', async () => {
    const cache = createCache({ connection: connect() });
    caches.push(cache);
    const recommendations = cache.entry(entries.recommendations(media));
    let loads = 0;
    const load = async () => {
      loads += 1;
      return [{ id: 'm1' }];
    };
    const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    await Promise.all(users.map((u) => recommendations.getOrSet([u], load)));
    await Promise.all(users.map((u) => recommendations.getOrSet([u], load)));
    expect(loads).toBe(40);
    // The 40 keys are spread over the three masters; the invalidation walks them all.
    const owners = await Promise.all(
      cluster.nodes.map(async (node) => {
        const client = new Redis(node.url);
        let count = 0;
        for await (const page of scanKeys(client, 'cache:recommendations:*')) count += page.length;
        client.disconnect();
        return count;
      }),
    );
    expect(owners.filter((n) => n > 0)).toHaveLength(3);
    expect(await recommendations.invalidateAll()).toBe(40);
    await Promise.all(users.map((u) => recommendations.getOrSet([u], load)));
    expect(loads).toBe(80);
  });

  it("tells another instance's first tier to drop a key over the invalidation bus", async () => {
    const [a, b] = [
      createCache({ connection: connect(), localTier: {} }),
      createCache({ connection: connect(), localTier: {} }),
    ];
    caches.push(a, b);
    const trendingA = a.entry(entries.trending(media));
    const trendingB = b.entry(entries.trending(media));
    await trendingA.set([], [{ id: 'old' }]);
    expect(await trendingB.get([])).toEqual([{ id: 'old' }]);
    await trendingA.set([], [{ id: 'new' }]);
    await a.invalidateKey('cache:trending');
    await trendingA.set([], [{ id: 'newest' }]);
    // b's first tier held 'old'; the broadcast makes it read Redis again.
    await expect.poll(() => trendingB.get([]), { timeout: 5000 }).toEqual([{ id: 'newest' }]);
  });
});
