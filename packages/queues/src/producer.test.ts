import { createKeyspace, createRequestConnection, loadRedisConfig } from '@nself-tv/redis-keys';
import { scanKeys, startRedisServer, useTestRedis } from '@nself-tv/test-redis';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_JOB_OPTIONS } from './catalog.js';
import { PayloadError, QueueError } from './errors.js';
import { createProducer } from './producer.js';
import { optimizeJob, queueTestKit, transcodeJob } from './test-helpers.js';

const redis = useTestRedis();
const kit = queueTestKit(redis);
const producer = createProducer({ connection: kit.requestConnection(), keyspace: kit.keyspace });
afterAll(() => producer.close());

describe('producer against a real Redis', () => {
  it('writes N jobs to bull:video:transcode:wait with exactly the spec default options', async () => {
    const n = 25;
    for (let i = 0; i < n; i++) await producer.enqueue('video:transcode', transcodeJob(`m${i}`));
    expect(await redis.client.llen(kit.keyspace.queueKey('video:transcode', 'wait'))).toBe(n);
    const [first] = await redis.client.lrange(kit.keyspace.queueKey('video:transcode', 'wait'), -1, -1);
    const hash = await redis.client.hgetall(kit.keyspace.queueKey('video:transcode', first ?? ''));
    const opts = JSON.parse(hash.opts ?? '{}');
    expect(opts).toMatchObject(DEFAULT_JOB_OPTIONS);
    // BullMQ stores a few bookkeeping fields of its own next to ours; none may change the spec's values.
    expect(Object.keys(opts).filter((k) => !(k in DEFAULT_JOB_OPTIONS) && k !== 'jobId')).toEqual([]);
    expect(JSON.parse(hash.data ?? '{}')).toEqual(transcodeJob('m0'));
  });

  it('creates only keys under bull:video: and bull:image:', async () => {
    await producer.enqueue('image:optimize', optimizeJob());
    const keys = await redis.keys();
    expect(keys.length).toBeGreaterThan(0);
    const prefixes = [kit.keyspace.queuePrefix('video'), kit.keyspace.queuePrefix('image')].map((p) => `${p}:`);
    for (const key of keys)
      expect(
        prefixes.some((p) => key.startsWith(p)),
        key,
      ).toBe(true);
    expect(await redis.client.type(kit.keyspace.queueKey('image:optimize', 'wait'))).toBe('list');
    expect(await redis.client.type(kit.keyspace.queueKey('image:optimize', 'meta'))).toBe('hash');
  });

  it('makes one job for a repeated job id', async () => {
    const a = await producer.enqueue('image:optimize', optimizeJob('x.png'), { jobId: 'opt-x' });
    const b = await producer.enqueue('image:optimize', optimizeJob('x.png'), { jobId: 'opt-x' });
    expect([a, b]).toEqual(['opt-x', 'opt-x']);
    const wait = await redis.client.lrange(kit.keyspace.queueKey('image:optimize', 'wait'), 0, -1);
    expect(wait.filter((id) => id === 'opt-x')).toHaveLength(1);
  });

  it('puts prioritized jobs in the prioritized sorted set', async () => {
    await producer.enqueue('image:poster', { ...transcodeJob('p1') }, { priority: 5 });
    expect(await redis.client.zcard(kit.keyspace.queueKey('image:poster', 'prioritized'))).toBe(1);
  });

  it('writes nothing for an invalid payload and names the field', async () => {
    const before = await scanKeys(redis.client, `${kit.keyspace.queuePrefix('video')}:trickplay:*`);
    const error = await producer
      .enqueue('video:trickplay', { ...transcodeJob(), intervalSeconds: -1 } as never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadError);
    expect((error as PayloadError).field).toBe('intervalSeconds');
    expect(await scanKeys(redis.client, `${kit.keyspace.queuePrefix('video')}:trickplay:*`)).toEqual(before);
  });

  it('rejects job ids that BullMQ or the key rule forbid', async () => {
    for (const jobId of ['a:b', '123', '']) {
      const error = await producer.enqueue('image:optimize', optimizeJob(), { jobId }).catch((e: unknown) => e);
      expect((error as PayloadError).field).toBe('jobId');
    }
  });

  it('bulk: enqueues all in order, or nothing when one item is invalid', async () => {
    const ids = await producer.enqueueBulk(
      'video:subtitle',
      [1, 2, 3].map((i) => ({ payload: transcodeJob(`s${i}`), options: { jobId: `sub-${i}` } })),
    );
    expect(ids).toEqual(['sub-1', 'sub-2', 'sub-3']);
    const error = await producer
      .enqueueBulk('video:subtitle', [{ payload: transcodeJob('ok') }, { payload: { ...transcodeJob(), mediaId: '' } }])
      .catch((e: unknown) => e);
    expect((error as PayloadError).field).toBe('[1].payload.mediaId');
    expect(await redis.client.llen(kit.keyspace.queueKey('video:subtitle', 'wait'))).toBe(3);
  });
});

describe('producer when Redis is down', () => {
  it('fails within its bound with REDIS_UNAVAILABLE instead of hanging', async () => {
    const server = await startRedisServer();
    const connection = createRequestConnection(loadRedisConfig({ REDIS_URL: server.url }));
    connection.on('error', () => undefined);
    const down = createProducer({ connection, keyspace: createKeyspace(), timeoutMs: 1000 });
    try {
      await down.enqueue('image:optimize', optimizeJob());
      await server.stop();
      const started = performance.now();
      const error = await down.enqueue('image:optimize', optimizeJob()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QueueError);
      expect((error as QueueError).code).toBe('REDIS_UNAVAILABLE');
      expect(performance.now() - started).toBeLessThan(1000 + 1000);
    } finally {
      await down.close().catch(() => undefined);
      connection.disconnect();
      await server.close();
    }
  });
});

describe('waitForReplicas', () => {
  it('reports an enqueue no replica confirmed as NOT_REPLICATED, and the job is there to retry by id', async () => {
    // This server has no replica: WAIT 1 answers 0 after the timeout.
    const careful = createProducer({
      connection: kit.requestConnection(),
      keyspace: kit.keyspace,
      waitForReplicas: { replicas: 1, timeoutMs: 100 },
    });
    const error = await careful
      .enqueue('image:optimize', optimizeJob('replicated.jpg'), { jobId: 'replicated-1' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueError);
    expect(error).toMatchObject({ code: 'NOT_REPLICATED' });
    expect(await redis.client.exists(kit.keyspace.queueKey('image:optimize', 'replicated-1'))).toBe(1);
    await careful.close();
  });
});
