import { useTestRedis } from '@nself-tv/test-redis';
import { expect, it } from 'vitest';
import { releaseHeldLock } from './held-lock.js';

const redis = useTestRedis();

it('releases a lock only for the token that holds it', async () => {
  const key = `${redis.namespace}:held-lock`;
  await redis.client.set(key, 'mine', 'PX', 10_000, 'NX');
  // A holder whose lock expired and was taken by another cannot delete the newer one.
  expect(await releaseHeldLock(redis.client, key, 'an-older-holder')).toBe(false);
  expect(await redis.client.get(key)).toBe('mine');
  expect(await releaseHeldLock(redis.client, key, 'mine')).toBe(true);
  expect(await redis.client.exists(key)).toBe(0);
  expect(await releaseHeldLock(redis.client, key, 'mine')).toBe(false);
});
