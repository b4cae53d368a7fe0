import * as keys from '@nself-tv/redis-keys';
import { runReadmeExample, useTestRedis } from '@nself-tv/test-redis';
import { it } from 'vitest';
import * as api from './index.js';

const redis = useTestRedis();

// The README's example connects to one server (REDIS_URL); the cluster run has its own tests.
it.skipIf(redis.cluster)('runs the usage example of the README', async () => {
  await runReadmeExample(
    new URL('../README.md', import.meta.url),
    { ...keys, ...api },
    { REDIS_URL: redis.url, NAMESPACE: redis.namespace },
  );
});
