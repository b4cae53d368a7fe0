import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { useTestRedis } from '@nself-tv/test-redis';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type EntryDefinition, entries } from './entries.js';
import { cacheKit, countingLoader } from './test-helpers.js';

const redis = useTestRedis();
const kit = cacheKit(redis.env, redis.namespace);
const ns = redis.namespace;
const items = z.array(z.object({ id: z.string() }));
const list = [{ id: 'a' }, { id: 'b' }];

describe('cache-aside', () => {
  it.each([
    ['trending', entries.trending(items), [] as string[], 900],
    ['popular', entries.popular(items), [], 3600],
    ['recent', entries.recent(items), [], 300],
    ['recommendations', entries.recommendations(items), ['user-1'], 3600],
  ] as const)(
    '%s: stores with the spec TTL, within the jitter band of ±10 percent',
    async (_name, def, params, ttl) => {
      const { cache } = kit.cache();
      const entry = cache.entry(def as EntryDefinition<z.infer<typeof items>, unknown[]>);
      const loader = countingLoader(list);
      expect(await entry.getOrSet(params as never, loader)).toEqual(list);
      expect(await entry.getOrSet(params as never, loader)).toEqual(list);
      expect(loader.calls).toBe(1);
      const key = entry.key(params as never);
      expect(key).toBe(`${ns}:cache:${_name}${params.length ? `:${params[0]}` : ''}`);
      expect(await redis.client.type(key)).toBe('string');
      expect(JSON.parse((await redis.client.get(key)) ?? '')).toEqual(list);
      const got = await redis.client.ttl(key);
      expect(got).toBeGreaterThanOrEqual(Math.floor(ttl * 0.9) - 1);
      expect(got).toBeLessThanOrEqual(Math.ceil(ttl * 1.1));
    },
  );

  it('search: 10 min TTL under the sha256 of the canonical query', async () => {
    const { cache } = kit.cache();
    const search = cache.entry(entries.search(items));
    await search.getOrSet([{ familyId: 'fam-1', q: 'Star Wars', genre: 'scifi' }], countingLoader(list));
    const key = search.key([{ familyId: 'fam-1', q: 'Star Wars', genre: 'scifi' }]);
    expect(key).toMatch(new RegExp(`^${ns}:cache:search:[0-9a-f]{64}$`));
    const ttl = await redis.client.ttl(key);
    expect(ttl).toBeGreaterThanOrEqual(539);
    expect(ttl).toBeLessThanOrEqual(660);
  });

  it('spreads TTLs of keys written together', async () => {
    const { cache } = kit.cache();
    const custom = cache.entry(entries.custom('spread', 1000, z.number()));
    const ttls = new Set<number>();
    for (let i = 0; i < 40; i++) {
      await custom.getOrSet([`k${i}`], async () => i);
      ttls.add(await redis.client.ttl(custom.key([`k${i}`])));
    }
    expect(ttls.size).toBeGreaterThan(10);
    for (const t of ttls) expect(t >= 899 && t <= 1100).toBe(true);
  });

  it('1000 concurrent misses of one key in one process call the loader once', async () => {
    const { cache } = kit.cache();
    const entry = cache.entry(entries.custom('stampede', 60, items));
    const loader = countingLoader(list, 50);
    const results = await Promise.all(Array.from({ length: 1000 }, () => entry.getOrSet([], loader)));
    expect(loader.calls).toBe(1);
    expect(results.every((r) => r === results[0])).toBe(true);
  });

  it('two processes with the lock on call the loader once between them', async () => {
    const fixture = fileURLToPath(new URL('../test/fixtures/lock-process.mjs', import.meta.url));
    const counterKey = `${ns}:lock-counter`;
    const startAt = Date.now() + 1500;
    const run = () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, [fixture], {
          env: {
            ...process.env,
            ...redis.env,
            NAMESPACE: ns,
            COUNTER_KEY: counterKey,
            START_AT: String(startAt),
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
        });
        child.once('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`exit ${code}`))));
      });
    const outputs = await Promise.all([run(), run(), run()]);
    expect(await redis.client.get(counterKey)).toBe('1');
    expect(new Set(outputs).size).toBe(1);
    expect(await redis.client.exists(`${ns}:cache:recommendations:user-1:lock`)).toBe(0);
  });

  it('a lock whose holder died expires, and the waiter loads itself', async () => {
    const { cache } = kit.cache({ lock: { ttlMs: 10_000, waitMs: 5000, pollMs: 20 } });
    const recs = cache.entry(entries.recommendations(items, { lock: { ttlMs: 300 } }));
    await redis.client.set(`${ns}:cache:recommendations:orphan:lock`, 'dead-holder', 'PX', 300);
    const loader = countingLoader(list);
    const t0 = performance.now();
    expect(await recs.getOrSet(['orphan'], loader)).toEqual(list);
    expect(loader.calls).toBe(1);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('treats a corrupted or invalid stored value as a miss and overwrites it', async () => {
    const { cache, events } = kit.cache();
    const entry = cache.entry(entries.popular(items));
    const key = entry.key([]);
    for (const bad of ['{not json', JSON.stringify([{ id: 42 }])]) {
      await redis.client.set(key, bad);
      const loader = countingLoader(list);
      expect(await entry.getOrSet([], loader)).toEqual(list);
      expect(loader.calls).toBe(1);
      expect(JSON.parse((await redis.client.get(key)) ?? '')).toEqual(list);
    }
    expect(events.filter((e) => e.type === 'miss' && e.reason === 'corrupt')).toHaveLength(2);
  });

  it('caches empty results with their own short TTL, and does not store undefined', async () => {
    const { cache } = kit.cache({ emptyTtlSeconds: 7 });
    const entry = cache.entry(entries.custom('empties', 600, z.array(z.string()).nullable()));
    await entry.getOrSet(['list'], async () => []);
    await entry.getOrSet(['null'], async () => null);
    expect(await redis.client.ttl(entry.key(['list']))).toBe(7);
    expect(await redis.client.get(entry.key(['null']))).toBe('null');
    expect(await redis.client.ttl(entry.key(['null']))).toBe(7);
    const nothing = cache.entry(entries.custom('nothing', 600, z.string().optional()));
    expect(await nothing.getOrSet(['x'], async () => undefined)).toBeUndefined();
    expect(await redis.client.exists(nothing.key(['x']))).toBe(0);
  });

  it('serves a stale value while one background refresh runs', async () => {
    const { cache, events } = kit.cache();
    const entry = cache.entry(entries.custom('swr', 1, z.number(), { graceSeconds: 60, staleWhileRevalidate: true }));
    await entry.set([], 1);
    // Move the key into its grace window: TTL below the 60 s grace.
    await redis.client.expire(entry.key([]), 30);
    const loader = countingLoader(2, 100);
    const served = await Promise.all([
      entry.getOrSet([], loader),
      entry.getOrSet([], loader),
      entry.getOrSet([], loader),
    ]);
    expect(served).toEqual([1, 1, 1]);
    await new Promise((r) => setTimeout(r, 300));
    expect(loader.calls).toBe(1);
    expect(await entry.getOrSet([], loader)).toBe(2);
    expect(events.some((e) => e.type === 'stale' && e.reason === 'revalidating')).toBe(true);
  });

  it('serves the stale value within grace when the loader fails', async () => {
    const { cache, events } = kit.cache();
    const entry = cache.entry(entries.custom('grace', 1, z.number(), { graceSeconds: 60 }));
    await entry.set([], 5);
    await redis.client.expire(entry.key([]), 30);
    expect(
      await entry.getOrSet([], async () => {
        throw new Error('database down');
      }),
    ).toBe(5);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['miss', 'loader_error', 'stale']));
    // Without a stale value the loader's error reaches the caller.
    const bare = cache.entry(entries.custom('no-grace', 60, z.number()));
    await expect(
      bare.getOrSet([], async () => {
        throw new Error('database down');
      }),
    ).rejects.toThrow('database down');
  });
});

describe('invalidation', () => {
  it('invalidates one key and a whole namespace with SCAN, leaving other keys alone', async () => {
    const { cache } = kit.cache();
    const recs = cache.entry(entries.recommendations(items));
    const popular = cache.entry(entries.popular(items));
    for (let i = 0; i < 60; i++) await recs.set([`u${i}`], list);
    await popular.set([], list);
    await recs.invalidate(['u0']);
    expect(await redis.client.exists(recs.key(['u0']))).toBe(0);
    // Other tests of this file left recommendations too: all of them go.
    expect(await recs.invalidateAll()).toBeGreaterThanOrEqual(59);
    expect(await redis.keys('cache:recommendations:*')).toEqual([]);
    expect(await redis.client.exists(popular.key([]))).toBe(1);
  });

  it('drops cache:recent (after an ingest completes)', async () => {
    const { cache } = kit.cache();
    const recent = cache.entry(entries.recent(items));
    await recent.set([], list);
    await cache.invalidateRecent();
    expect(await redis.client.exists(`${ns}:cache:recent`)).toBe(0);
  });

  it('first-tier invalidation on one instance reaches the other', async () => {
    const a = kit.cache({ localTier: { ttlMs: 60_000 } });
    const b = kit.cache({ localTier: { ttlMs: 60_000 } });
    const ea = a.cache.entry(entries.trending(items));
    const eb = b.cache.entry(entries.trending(items));
    await new Promise((r) => setTimeout(r, 200)); // subscriptions
    await ea.getOrSet([], async () => list);
    expect(await eb.getOrSet([], async () => [{ id: 'never' }])).toEqual(list);
    // Served from b's first tier even after Redis changes underneath.
    await redis.client.set(eb.key([]), JSON.stringify([{ id: 'changed' }]), 'EX', 60);
    expect(await eb.getOrSet([], async () => [])).toEqual(list);
    expect(b.events.at(-1)).toEqual({ type: 'hit', entry: 'trending', tier: 'local' });
    await ea.invalidate([]);
    const loader = countingLoader([{ id: 'fresh' }]);
    await expect.poll(() => eb.getOrSet([], loader), { timeout: 3000 }).toEqual([{ id: 'fresh' }]);
    expect(loader.calls).toBe(1);
  });
});
