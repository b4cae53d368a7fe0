// Shared by this package's tests only (not exported).

import { MEDIA_ERROR_FINALITY } from '@nself-tv/media-tools';
import {
  createKeyspace,
  createRequestConnection,
  createWorkerConnection,
  loadRedisConfig,
  type RedisClient,
} from '@nself-tv/redis-keys';
import { STORAGE_ERROR_FINALITY } from '@nself-tv/storage';
import type { TestRedis } from '@nself-tv/test-redis';
import { afterAll } from 'vitest';
import { QUEUE_ERROR_FINALITY } from './runner/retry-policy.js';

/** What an app composes from the packages its processors use (the worker apps' `RETRY_POLICY`). */
export const retryPolicy = { ...QUEUE_ERROR_FINALITY, ...STORAGE_ERROR_FINALITY, ...MEDIA_ERROR_FINALITY };

/** Connections and a keyspace under the test file's namespace, closed after the file. */
export function queueTestKit(redis: TestRedis) {
  const config = loadRedisConfig(redis.env);
  const keyspace = createKeyspace({ namespace: redis.namespace, cluster: redis.cluster });
  const clients: RedisClient[] = [];
  const track = (client: RedisClient) => {
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  };
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
  });
  return {
    config,
    keyspace,
    workerConnection: () => track(createWorkerConnection(config)),
    requestConnection: () => track(createRequestConnection(config, { commandTimeoutMs: 2000 })),
  };
}

export const transcodeJob = (mediaId = 'm1') => ({
  mediaId,
  familyId: 'fam1',
  source: { bucket: 'media', key: `uploads/${mediaId}.mkv` },
  output: { bucket: 'media', prefix: `hls/${mediaId}/` },
});

export const optimizeJob = (key = 'posters/a.jpg') => ({
  source: { bucket: 'media', key },
  output: { bucket: 'media', key: `${key}.webp` },
});

export const optimizeResult = {
  key: 'x',
  format: 'webp',
  originalBytes: 10,
  optimizedBytes: 5,
  savingsPercent: 50,
  keptOriginal: false,
};

export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
