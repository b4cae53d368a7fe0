import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { afterAll, inject } from 'vitest';
import { REDIS_CLUSTER_KEY, REDIS_URL_KEY } from './provided-context.js';

/** What a test file gets from {@link useTestRedis}. */
export interface TestRedis {
  /** URL of the shared test Redis ('' when the run uses a cluster). */
  readonly url: string;
  /** True when the run uses a Redis Cluster (`TEST_REDIS_CLUSTER=1`). */
  readonly cluster: boolean;
  /** The variables that reach the run's Redis, for `loadRedisConfig` or a child process. */
  readonly env: { REDIS_URL: string; REDIS_CLUSTER_NODES?: string };
  /** This file's own key namespace; pass it to `createKeyspace({ namespace })`. */
  readonly namespace: string;
  /** A plain client for assertions (`TYPE`, `TTL`, `SCAN`); closed after the file. */
  readonly client: Redis | Cluster;
  /** Keys currently under this file's namespace, found with SCAN. */
  keys(pattern?: string): Promise<string[]>;
}

/** A namespace no other test file uses. */
export function uniqueNamespace(label = 't'): string {
  return `${label}${randomBytes(5).toString('hex')}`;
}

/** Collects every key matching `pattern` with SCAN (on every master of a cluster). */
export async function scanKeys(client: Redis | Cluster, pattern: string): Promise<string[]> {
  const found: string[] = [];
  if (client instanceof Cluster && client.status !== 'ready') {
    await new Promise((resolve) => client.once('ready', resolve));
  }
  for (const node of client instanceof Cluster ? client.nodes('master') : [client]) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
  }
  return found.sort();
}

/**
 * Gives the calling test file its own namespace on the run's Redis (see the
 * global setup) and, after the file, deletes every key under it and closes the
 * client, so files never see each other's keys and nothing is left behind.
 */
export function useTestRedis(): TestRedis {
  const url = inject(REDIS_URL_KEY);
  const seeds = inject(REDIS_CLUSTER_KEY) ?? '';
  const namespace = uniqueNamespace();
  const cluster = seeds !== '';
  const client = cluster
    ? new Cluster(
        seeds.split(',').map((s) => ({ host: s.split(':')[0], port: Number(s.split(':')[1]) })),
        { redisOptions: { maxRetriesPerRequest: 3 } },
      )
    : new Redis(url, { maxRetriesPerRequest: 3, lazyConnect: false });
  afterAll(async () => {
    const leftovers = await scanKeys(client, `${namespace}:*`);
    // Keys of a cluster sit in different slots: one UNLINK each there.
    if (cluster) await Promise.all(leftovers.map((key) => client.unlink(key)));
    else for (let i = 0; i < leftovers.length; i += 500) await client.unlink(...leftovers.slice(i, i + 500));
    await client.quit();
  });
  return {
    // A suite not written for a cluster must not fall back to some other Redis (REDIS_URL unset
    // means localhost:6379): on a cluster run, asking for the URL fails the file.
    get url() {
      if (cluster)
        throw new Error('this run uses a Redis Cluster (TEST_REDIS_CLUSTER=1): connect with `env`, not `url`');
      return url;
    },
    cluster,
    env: cluster ? { REDIS_URL: '', REDIS_CLUSTER_NODES: seeds } : { REDIS_URL: url },
    namespace,
    client,
    keys: (pattern = '*') => scanKeys(client, `${namespace}:${pattern}`),
  };
}
