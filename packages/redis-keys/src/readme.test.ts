import { runReadmeExample, useTestRedis } from '@nself-tv/test-redis';
import { it } from 'vitest';
import * as api from './index.js';

const redis = useTestRedis();

// The example picks a database, which a cluster does not have; the cluster run has its own tests.
it.skipIf(redis.cluster)('runs the usage example of the README', async () => {
  // The example writes un-namespaced spec keys, so it gets a database of its own.
  await runReadmeExample(new URL('../README.md', import.meta.url), { ...api }, { REDIS_URL: `${redis.url}/9` });
});
