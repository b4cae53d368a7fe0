import type { Redis } from 'ioredis';

/** Counts keys matching a pattern with SCAN (never KEYS), COUNT `batch` per call. */
export async function countKeys(client: Redis, pattern: string, batch = 1000): Promise<number> {
  let cursor = '0';
  let total = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', batch);
    cursor = next;
    total += keys.length;
  } while (cursor !== '0');
  return total;
}
