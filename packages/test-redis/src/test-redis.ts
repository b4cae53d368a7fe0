import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, inject } from 'vitest';
import { REDIS_URL_KEY } from './provided-context.js';

/** What a test file gets from {@link useTestRedis}. */
export interface TestRedis {
  /** URL of the shared test Redis. */
  readonly url: string;
  /** This file's own key namespace; pass it to `createKeyspace({ namespace })`. */
  readonly namespace: string;
  /** A plain client for assertions (`TYPE`, `TTL`, `SCAN`); closed after the file. */
  readonly client: Redis;
  /** Keys currently under this file's namespace, found with SCAN. */
  keys(pattern?: string): Promise<string[]>;
}

/** A namespace no other test file uses. */
export function uniqueNamespace(label = 't'): string {
  return `${label}${randomBytes(5).toString('hex')}`;
}

/** Collects every key matching `pattern` with SCAN. */
export async function scanKeys(client: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    found.push(...batch);
  } while (cursor !== '0');
  return found.sort();
}

/**
 * Gives the calling test file its own namespace on the run's Redis (see the
 * global setup) and, after the file, deletes every key under it and closes the
 * client, so files never see each other's keys and nothing is left behind.
 */
export function useTestRedis(): TestRedis {
  const url = inject(REDIS_URL_KEY);
  const namespace = uniqueNamespace();
  const client = new Redis(url, { maxRetriesPerRequest: 3, lazyConnect: false });
  afterAll(async () => {
    const leftovers = await scanKeys(client, `${namespace}:*`);
    for (let i = 0; i < leftovers.length; i += 500) {
      await client.unlink(...leftovers.slice(i, i + 500));
    }
    await client.quit();
  });
  return {
    url,
    namespace,
    client,
    keys: (pattern = '*') => scanKeys(client, `${namespace}:${pattern}`),
  };
}
