import type { Redis } from 'ioredis';
import { isCluster, type RedisClient, waitForReady } from './connections.js';

/**
 * The keys matching `pattern`, page by page (SCAN, never KEYS). On a Redis Cluster every master
 * is scanned, since each holds only its own slots; replicas are skipped, so no key comes twice.
 * Like SCAN, a key written or deleted during the walk may or may not be seen.
 *
 * @example
 * for await (const page of scanKeys(connection, 'session:*')) count += page.length;
 */
export async function* scanKeys(client: RedisClient, pattern: string, count = 500): AsyncGenerator<string[]> {
  // A cluster client knows its masters once it has read the slot table.
  if (isCluster(client)) await waitForReady(client, 10_000);
  const nodes: Redis[] = isCluster(client) ? client.nodes('master') : [client];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}
