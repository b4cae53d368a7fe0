import { masterNodes, type RedisClient } from './connections.js';

/**
 * The keys matching `pattern`, page by page (SCAN, never KEYS). On a Redis Cluster every master
 * is scanned, since each holds only its own slots; replicas are skipped, so no key comes twice.
 * Like SCAN, a key written or deleted during the walk may or may not be seen.
 *
 * @example
 * for await (const page of scanKeys(connection, 'session:*')) count += page.length;
 */
export async function* scanKeys(client: RedisClient, pattern: string, count = 500): AsyncGenerator<string[]> {
  for (const node of await masterNodes(client)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}
