import { createRequestConnection, loadRedisConfig } from '@nself-tv/redis-keys';
import { startRedisServer } from '@nself-tv/test-redis';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createCache } from './cache.js';
import { entries } from './entries.js';
import type { CacheEvent } from './events.js';
import { countingLoader } from './test-helpers.js';

const items = z.array(z.number());

async function setup(args: string[] = [], commandTimeoutMs = 100) {
  const server = await startRedisServer({ args });
  const connection = createRequestConnection(loadRedisConfig({ REDIS_URL: server.url }), { commandTimeoutMs });
  connection.on('error', () => undefined);
  const admin = new Redis(server.url, { lazyConnect: true });
  admin.on('error', () => undefined);
  const events: CacheEvent[] = [];
  const cache = createCache({
    connection,
    onEvent: (e) => events.push(e),
    breaker: { failureThreshold: 3, cooldownMs: 300 },
  });
  const done = async () => {
    await cache.close();
    connection.disconnect();
    admin.disconnect();
    await server.close();
  };
  return { server, connection, admin, cache, events, done };
}

describe('fail-open', () => {
  it('keeps serving loader results while Redis is stopped, each within timeout + loader time, and resumes caching by itself', async () => {
    const { server, admin, cache, events, done } = await setup();
    try {
      const popular = cache.entry(entries.popular(items));
      const loaderMs = 20;
      await popular.getOrSet([], countingLoader([1], loaderMs));
      await server.stop();
      const durations: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t0 = performance.now();
        expect(await popular.getOrSet([], countingLoader([i], loaderMs))).toEqual([i]);
        durations.push(performance.now() - t0);
      }
      // Loose bound: command timeout (100) + loader (20) + slack for a busy CI machine.
      expect(Math.max(...durations)).toBeLessThan(100 + loaderMs + 400);
      expect(events.some((e) => e.type === 'breaker' && e.open)).toBe(true);
      expect(cache.redisBypassed).toBe(true);

      await server.start();
      await admin.connect();
      await expect
        .poll(
          async () => {
            await popular.getOrSet([], countingLoader([99], 0));
            return admin.get('cache:popular');
          },
          { timeout: 15_000, interval: 200 },
        )
        .toBe('[99]');
      expect(cache.redisBypassed).toBe(false);
      expect(events.some((e) => e.type === 'breaker' && !e.open)).toBe(true);
    } finally {
      await done();
    }
  });

  it('bounds every call when Redis is alive but stuck', async () => {
    const { admin, cache, events, done } = await setup(['--enable-debug-command', 'yes'], 100);
    try {
      await admin.connect();
      const trending = cache.entry(entries.trending(items));
      await trending.getOrSet([], countingLoader([1]));
      const sleeping = admin.call('DEBUG', 'SLEEP', '1').catch(() => undefined);
      await new Promise((r) => setTimeout(r, 30));
      const t0 = performance.now();
      expect(await trending.getOrSet([], countingLoader([2], 10))).toEqual([2]);
      expect(performance.now() - t0).toBeLessThan(100 + 10 + 100 + 400);
      expect(events.some((e) => e.type === 'redis_error' && e.timeout)).toBe(true);
      await sleeping;
    } finally {
      await done();
    }
  });

  it('a failed write (OOM under noeviction) never fails the request', async () => {
    const { admin, cache, events, done } = await setup(['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction']);
    try {
      await admin.connect();
      // Fill the server up to its limit.
      const blob = 'x'.repeat(64 * 1024);
      for (let i = 0; i < 200; i++) {
        const ok = await admin.set(`filler:${i}`, blob).catch(() => 'OOM');
        if (ok === 'OOM') break;
      }
      const recent = cache.entry(entries.recent(z.array(z.string())));
      const big = Array.from({ length: 2000 }, (_, i) => `item-${i}-${blob.slice(0, 50)}`);
      expect(await recent.getOrSet([], countingLoader(big))).toEqual(big);
      expect(await admin.exists('cache:recent')).toBe(0);
      const writeErrors = events.filter((e) => e.type === 'redis_error' && e.operation === 'set');
      expect(writeErrors.length).toBe(1);
      expect(String((writeErrors[0] as { error: Error }).error.message)).toMatch(/OOM/);
    } finally {
      await done();
    }
  });
});
