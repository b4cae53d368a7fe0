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

it('documents every failure code an ingest can record', async () => {
  const { readFile } = await import('node:fs/promises');
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  for (const code of [...Object.keys(api.QUEUE_ERROR_FINALITY), api.UNCODED_FAILURE, 'UNRECOVERABLE']) {
    if (!readme.includes(`\`${code}\``)) throw new Error(`README: failure code ${code} is not documented`);
  }
});
