import { startRedisServer } from '@nself-tv/test-redis';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { isRedisFull } from './errors.js';

describe('isRedisFull', () => {
  it('is true for a real Redis refusing a write at maxmemory, false for other failures', async () => {
    const server = await startRedisServer({ args: ['--maxmemory-policy', 'noeviction'] });
    const client = new Redis(server.url, { maxRetriesPerRequest: 0 });
    try {
      await client.set('a', 'x'.repeat(1_000_000));
      await client.config('SET', 'maxmemory', '1');
      const full = await client.set('b', 'x').catch((e: unknown) => e);
      expect(isRedisFull(full)).toBe(true);
      const other = await client.incr('a').catch((e: unknown) => e);
      expect(isRedisFull(other)).toBe(true);
      await client.config('SET', 'maxmemory', '0');
      // A wrong command, a wrong type, a dropped connection: not "full".
      expect(isRedisFull(await client.call('NOSUCHCOMMAND').catch((e: unknown) => e))).toBe(false);
      expect(isRedisFull(await client.lpush('a', 'x').catch((e: unknown) => e))).toBe(false);
      expect(isRedisFull(new Error('OOM command not allowed'))).toBe(false);
      expect(isRedisFull(undefined)).toBe(false);
    } finally {
      client.disconnect();
      await server.close();
    }
  });
});
