import { useTestRedis } from '@nself-tv/test-redis';
import { expect, it } from 'vitest';
import { defineLuaScript } from './script.js';

const redis = useTestRedis();

it('runs by SHA and falls back to EVAL after SCRIPT FLUSH', async () => {
  const script = defineLuaScript("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  const key = `${redis.namespace}:counter`;
  await redis.client.script('FLUSH');
  expect(await redis.client.script('EXISTS', script.sha)).toEqual([0]);
  expect(await script.run(redis.client, [key], [2])).toBe(2);
  expect(await redis.client.script('EXISTS', script.sha)).toEqual([1]);
  expect(await script.run(redis.client, [key], [3])).toBe(5);
});

it('passes script errors through', async () => {
  const script = defineLuaScript("return redis.error_reply('BOOM nope')");
  await expect(script.run(redis.client, [], [])).rejects.toThrow('BOOM nope');
});
