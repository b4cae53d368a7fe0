import type { TestProject } from 'vitest/node';
import { REDIS_CLUSTER_KEY, REDIS_URL_KEY } from './provided-context.js';
import { startRedisCluster } from './redis-cluster.js';
import { startRedisServer } from './redis-server.js';

/**
 * vitest `globalSetup`: uses `REDIS_URL` when set, otherwise starts a private
 * redis-server on a free port for the whole run and stops it at the end.
 * Fails the run (never skips) when neither is available. With `TEST_REDIS_CLUSTER=1` it starts a
 * local 3-master Redis Cluster instead, and the files get its nodes (`useTestRedis().env`).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.TEST_REDIS_CLUSTER === '1') {
    const cluster = await startRedisCluster();
    project.provide(REDIS_URL_KEY, '');
    project.provide(REDIS_CLUSTER_KEY, cluster.seeds);
    return () => cluster.close();
  }
  project.provide(REDIS_CLUSTER_KEY, '');
  const given = process.env.REDIS_URL;
  if (given) {
    project.provide(REDIS_URL_KEY, given);
    return async () => {};
  }
  const server = await startRedisServer();
  project.provide(REDIS_URL_KEY, server.url);
  return () => server.close();
}
