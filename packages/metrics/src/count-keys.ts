import { type RedisClient, scanKeys } from '@nself-tv/redis-keys';

/** Counts keys matching a pattern with SCAN (never KEYS), on every master of a cluster. */
export async function countKeys(client: RedisClient, pattern: string, batch = 1000): Promise<number> {
  let total = 0;
  for await (const page of scanKeys(client, pattern, batch)) total += page.length;
  return total;
}
