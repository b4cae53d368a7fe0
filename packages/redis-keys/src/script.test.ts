import { useTestRedis } from '@nself-tv/test-redis';
import { expect, it } from 'vitest';
import { masterNodes } from './connections.js';
import { defineLuaScript } from './script.js';

const redis = useTestRedis();

it('runs by SHA and falls back to EVAL after SCRIPT FLUSH', async () => {
  const script = defineLuaScript("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  const key = `${redis.namespace}:counter`;
  // On a cluster each master has its own script cache: flush them all, and the key's master loads it.
  const masters = await masterNodes(redis.client);
  const loadedOn = async () =>
    (await Promise.all(masters.map((m) => m.script('EXISTS', script.sha) as Promise<number[]>))).filter(
      ([n]) => n === 1,
    ).length;
  await Promise.all(masters.map((m) => m.script('FLUSH')));
  expect(await loadedOn()).toBe(0);
  expect(await script.run(redis.client, [key], [2])).toBe(2);
  expect(await loadedOn()).toBe(1);
  expect(await script.run(redis.client, [key], [3])).toBe(5);
});

it('passes script errors through', async () => {
  const script = defineLuaScript("return redis.error_reply('BOOM nope')");
  await expect(script.run(redis.client, [], [])).rejects.toThrow('BOOM nope');
});
