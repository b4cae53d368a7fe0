import type {} from 'vitest';

/** Name under which the global setup provides the Redis URL to test files. */
export const REDIS_URL_KEY = 'redisUrl';
/** Name under which it provides the seed nodes when the run uses a cluster (`TEST_REDIS_CLUSTER=1`). */
export const REDIS_CLUSTER_KEY = 'redisClusterNodes';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the Redis every test file of this run shares (each under its own namespace). */
    [REDIS_URL_KEY]: string;
    /** `host:port,…` of the run's Redis Cluster, or '' on a single server. */
    [REDIS_CLUSTER_KEY]: string;
  }
}
