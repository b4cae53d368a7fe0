import {
  createRequestConnection,
  createWorkerConnection,
  keyspaceFor,
  loadRedisConfig,
  type RedisClient,
} from '@nself-tv/redis-keys';
import { type RedisClusterHandle, startRedisCluster } from '@nself-tv/test-redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestService } from './ingest/ingest-service.js';
import { createProducer } from './producer.js';
import { createQueueWorker, type QueueWorker } from './runner/worker.js';
import { createJobInspector } from './status.js';
import { optimizeJob, optimizeResult, transcodeJob, waitFor } from './test-helpers.js';

// Producers, workers, the inspector and ingest state on a real 3-master Redis Cluster.
let cluster: RedisClusterHandle;
const clients: RedisClient[] = [];
const workers: QueueWorker[] = [];
const connect = (kind: 'worker' | 'request') => {
  const config = loadRedisConfig(cluster.env);
  const client = kind === 'worker' ? createWorkerConnection(config) : createRequestConnection(config);
  client.on('error', () => undefined);
  clients.push(client);
  return client;
};
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 30_000);
afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
  await cluster.close();
});

describe('queues on a Redis Cluster', () => {
  it('runs a job end to end with every queue key in the {bull} slot', async () => {
    const request = connect('request');
    const producer = createProducer({ connection: request });
    const inspector = createJobInspector(request);
    workers.push(
      createQueueWorker('image:optimize', async (payload) => ({ ...optimizeResult, key: payload.output.key }), {
        connection: connect('worker'),
      }),
    );
    const jobId = await producer.enqueue('image:optimize', optimizeJob('cluster.jpg'));
    const done = await waitFor(async () => {
      const job = await inspector.getJob(jobId);
      return job?.state === 'completed' ? job : undefined;
    });
    expect(done.result).toMatchObject({ key: 'cluster.jpg.webp' });
    const keys = keyspaceFor(request);
    expect(keys.queue('image:optimize')).toEqual({ prefix: '{bull}:image', name: 'optimize' });
    const jobKey = keys.queueKey('image:optimize', jobId);
    expect(await request.exists(jobKey)).toBe(1);
    const slots = new Set(
      await Promise.all(
        ['wait', 'completed', 'meta', jobId].map((s) =>
          request.call('CLUSTER', 'KEYSLOT', keys.queueKey('image:optimize', s)),
        ),
      ),
    );
    expect(slots.size).toBe(1);
    const counts = await inspector.counts();
    expect(counts.find((c) => c.queue === 'image:optimize')).toMatchObject({ completed: 1 });
    await producer.close();
    await inspector.close();
  });

  it('keeps an ingest state and fans its jobs out to their queues', async () => {
    const request = connect('request');
    const producer = createProducer({ connection: request });
    const ingest = createIngestService({ connection: request, producer });
    const { mediaId, familyId, source } = transcodeJob('clustered');
    const started = await ingest.start({ ingestId: 'cluster-ingest', mediaId, familyId, source });
    expect(started).toMatchObject({ ingestId: 'cluster-ingest', status: 'pending' });
    const state = await ingest.get('cluster-ingest');
    expect(state?.stages.find((s) => s.name === 'transcode')).toMatchObject({ status: 'pending' });
    const inspector = createJobInspector(request);
    // An ingest's transcode carries its place in the chunk schedule: it waits among the prioritized.
    const transcode = await waitFor(async () =>
      (await inspector.counts()).find((c) => c.queue === 'video:transcode' && c.waiting + c.prioritized > 0),
    );
    expect(transcode.waiting + transcode.prioritized).toBe(1);
    expect(await ingest.cancel('cluster-ingest')).toMatchObject({ status: 'cancelled' });
    await producer.close();
    await inspector.close();
  });
});
