import { createKeyspace, JOB_RETENTION, namespaceInfo } from '@nself-tv/redis-keys';
import { scanKeys, useTestRedis } from '@nself-tv/test-redis';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_JOB_OPTIONS } from './catalog.js';
import { createProducer } from './producer.js';
import { createQueueWorker } from './runner/worker.js';
import { createJobInspector, startRetentionCleaner } from './status.js';
import { optimizeJob, optimizeResult, queueTestKit, transcodeJob, waitFor } from './test-helpers.js';

const redis = useTestRedis();
const kit = queueTestKit(redis);
const producer = createProducer({
  connection: kit.requestConnection(),
  keyspace: kit.keyspace,
  overrides: { 'image:optimize': { attempts: 1 } },
});
const inspector = createJobInspector(kit.requestConnection(), kit.keyspace);
const worker = createQueueWorker(
  'image:optimize',
  async (p) => {
    if (p.source.key === 'fail.jpg') throw new Error('cannot decode');
    return optimizeResult;
  },
  { connection: kit.workerConnection(), keyspace: kit.keyspace },
);
afterAll(async () => {
  await worker.close(1000);
  await inspector.close();
  await producer.close();
});

describe('job inspector', () => {
  it('finds a job in any queue with state, result and timestamps', async () => {
    const waiting = await producer.enqueue('video:subtitle', transcodeJob('s1'), { jobId: 'status-sub' });
    const done = await producer.enqueue('image:optimize', optimizeJob('ok.jpg'), { jobId: 'status-ok' });
    const failed = await producer.enqueue('image:optimize', optimizeJob('fail.jpg'), { jobId: 'status-fail' });
    await waitFor(async () => (await inspector.getJob(failed))?.state === 'failed');
    await waitFor(async () => (await inspector.getJob(done))?.state === 'completed');

    expect(await inspector.getJob(waiting)).toMatchObject({
      jobId: 'status-sub',
      queue: 'video:subtitle',
      state: 'waiting',
      attemptsMade: 0,
    });
    const ok = await inspector.getJob(done);
    expect(ok).toMatchObject({ queue: 'image:optimize', state: 'completed', result: optimizeResult, attemptsMade: 1 });
    expect(ok?.finishedAt).toBeGreaterThanOrEqual(ok?.createdAt ?? Number.POSITIVE_INFINITY);
    expect(await inspector.getJob(failed)).toMatchObject({ state: 'failed', failedReason: 'cannot decode' });
    expect(await inspector.getJob('no-such-job')).toBeUndefined();
  });

  it('tells jobs of different queues apart when no job id is given', async () => {
    const a = await producer.enqueue('video:subtitle', transcodeJob('s2'));
    const b = await producer.enqueue('video:trickplay', { ...transcodeJob('s2'), intervalSeconds: 5 });
    expect(a).not.toBe(b);
    expect(await inspector.getJob(a)).toMatchObject({ jobId: a, queue: 'video:subtitle' });
    expect(await inspector.getJob(b)).toMatchObject({ jobId: b, queue: 'video:trickplay' });
    await producer.queue('video:subtitle').remove(a);
    await producer.queue('video:trickplay').remove(b);
  });

  it('counts every queue by state, including prioritized and paused', async () => {
    await producer.enqueue('image:poster', transcodeJob('p1'), { priority: 3 });
    await producer.queue('image:sprite').pause();
    const { source, ...rest } = transcodeJob('sp');
    await producer.enqueue('image:sprite', { ...rest, video: source });
    const counts = Object.fromEntries((await inspector.counts()).map((c) => [c.queue, c]));
    expect(Object.keys(counts)).toHaveLength(6);
    expect(counts['video:subtitle']).toMatchObject({ waiting: 1, active: 0 });
    expect(counts['image:poster']).toMatchObject({ prioritized: 1 });
    expect(counts['image:sprite']).toMatchObject({ waiting: 1, paused: 1, isPaused: true });
    expect(counts['image:optimize']?.completed).toBeGreaterThanOrEqual(1);
    expect(counts['image:optimize']?.failed).toBeGreaterThanOrEqual(1);
    // Only the queues asked for, the same figures, in catalog order.
    const some = await inspector.counts(['image:sprite', 'image:poster']);
    expect(some).toEqual([counts['image:poster'], counts['image:sprite']]);
  });
});

describe('inspector on an empty Redis', () => {
  it('writes nothing', async () => {
    const other = createJobInspector(
      kit.requestConnection(),
      createKeyspace({ namespace: `${redis.namespace}-ro`, cluster: redis.cluster }),
    );
    await other.counts();
    await other.getJob('nothing');
    await other.close();
    expect(await scanKeys(redis.client, `${redis.namespace}-ro:*`)).toEqual([]);
  });
});

describe('retention cleaner', () => {
  it('removes finished jobs older than the retention even when no job finishes', async () => {
    const cleaner = startRetentionCleaner({
      connection: kit.workerConnection(),
      keyspace: kit.keyspace,
      queues: ['image:optimize'],
      retention: { completedAgeMs: 300, failedAgeMs: 300 },
      intervalMs: 60_000,
    });
    try {
      await producer.enqueue('image:optimize', optimizeJob('fail.jpg'), { jobId: 'old-fail' });
      await waitFor(async () => (await inspector.getJob('old-fail'))?.state === 'failed');
      // Younger than the retention: kept.
      await cleaner.runOnce();
      expect(await inspector.getJob('old-fail')).toBeDefined();
      await new Promise((r) => setTimeout(r, 400));
      const [pass] = await cleaner.runOnce();
      expect(pass?.failed).toBeGreaterThanOrEqual(1);
      expect(await inspector.getJob('old-fail')).toBeUndefined();
      expect(await redis.client.zcard(kit.keyspace.queueKey('image:optimize', 'failed'))).toBe(0);
    } finally {
      await cleaner.stop();
    }
  });

  it('by default keeps failed jobs exactly the JOB_RETENTION the job options and the key table give', async () => {
    const cleaner = startRetentionCleaner({
      connection: kit.workerConnection(),
      keyspace: kit.keyspace,
      queues: ['image:optimize'],
      intervalMs: 60_000,
    });
    try {
      for (const id of ['week-old', 'six-days-old']) {
        await producer.enqueue('image:optimize', optimizeJob('fail.jpg'), { jobId: id });
        await waitFor(async () => (await inspector.getJob(id))?.state === 'failed');
      }
      const age = JOB_RETENTION.failedAgeSeconds * 1000;
      const hash = (id: string) => kit.keyspace.queueKey('image:optimize', id);
      const failedSet = kit.keyspace.queueKey('image:optimize', 'failed');
      // As if they had failed a week and six days ago: the job's finishedOn and its score in the failed set.
      for (const [id, at] of [
        ['week-old', Date.now() - age - 60_000],
        ['six-days-old', Date.now() - age + 60_000],
      ] as const) {
        await redis.client.hset(hash(id), 'finishedOn', at);
        await redis.client.zadd(failedSet, 'XX', at, id);
      }
      await cleaner.runOnce();
      expect(await inspector.getJob('week-old')).toBeUndefined();
      expect(await inspector.getJob('six-days-old')).toBeDefined();
      expect(DEFAULT_JOB_OPTIONS.removeOnFail.age).toBe(JOB_RETENTION.failedAgeSeconds);
      expect(namespaceInfo('imageQueues').retention).toBe('completed: 24 h or 1000 jobs; failed: 7 days or 5000 jobs');
    } finally {
      await cleaner.stop();
    }
  });
});
