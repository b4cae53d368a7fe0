import type { CacheEvent } from '@nself-tv/cache';
import { createJobInspector, createProducer, type WorkerEvent } from '@nself-tv/queues';
import { createKeyspace, createRequestConnection, loadRedisConfig, masterNodes } from '@nself-tv/redis-keys';
import type { SessionEvent } from '@nself-tv/sessions';
import { useTestRedis } from '@nself-tv/test-redis';
import { Queue } from 'bullmq';
import parse from 'parse-prometheus-text-format';
import { afterAll, describe, expect, it } from 'vitest';
import { METRIC_NAMES } from './names.js';
import { createTvMetrics } from './tv-metrics.js';

const redis = useTestRedis();
const ns = redis.namespace;
const keyspace = createKeyspace({ namespace: ns, cluster: redis.cluster });
const connection = createRequestConnection(loadRedisConfig(redis.env), { commandTimeoutMs: 5000 });
const inspector = createJobInspector(connection, keyspace);
const producer = createProducer({ connection, keyspace });
afterAll(async () => {
  await inspector.close();
  await producer.close();
  connection.disconnect();
});

const job = (m: string) => ({
  mediaId: m,
  familyId: 'f',
  source: { bucket: 'media', key: `${m}.mkv` },
  output: { bucket: 'media', prefix: `${m}/` },
});

/** Commands processed so far, over every master of a cluster. */
async function commandsProcessed() {
  const infos = await Promise.all((await masterNodes(redis.client)).map((m) => m.info('stats')));
  return infos.reduce((sum, info) => sum + Number(/total_commands_processed:(\d+)/.exec(info)?.[1]), 0);
}

async function scrape(metrics: ReturnType<typeof createTvMetrics>) {
  const text = await metrics.metrics();
  const families = parse(text);
  const get = (name: string) => families.find((f) => f.name === name);
  // parse-prometheus-text-format 1.1 keeps only one unlabelled series per
  // histogram, so histogram samples are read from their _count/_sum lines.
  const sample = (line: string) =>
    Number(
      text
        .split('\n')
        .find((l) => l.startsWith(`${line} `))
        ?.split(' ')[1],
    );
  return { get, sample };
}

describe('/metrics exposition', () => {
  it('reports queue counts, worker, cache and session events with bounded labels', async () => {
    for (const m of ['a', 'b', 'c']) await producer.enqueue('video:transcode', job(m));
    await producer.enqueue('image:poster', job('p'), { priority: 2 });
    await producer.enqueue('video:subtitle', job('d'), { delayMs: 60_000 });
    await producer.queue('image:sprite').pause();

    const metrics = createTvMetrics({ queues: inspector, redis: connection, keyspace });
    // The packages' own events, as they emit them: the metrics' structural inputs take them as they are.
    const onWorker = (event: WorkerEvent) => metrics.onWorkerEvent(event);
    const onCache = (event: CacheEvent) => metrics.onCacheEvent(event);
    const onSession = (event: SessionEvent) => metrics.onSessionEvent(event);
    onWorker({ type: 'completed', queue: 'video:transcode', jobId: '1', attempt: 1, durationMs: 1500 });
    onWorker({
      type: 'failed',
      queue: 'video:transcode',
      jobId: '2',
      attempt: 1,
      final: false,
      reason: 'x',
      code: undefined,
      durationMs: 10,
    });
    onWorker({
      type: 'failed',
      queue: 'video:transcode',
      jobId: '2',
      attempt: 3,
      final: true,
      reason: 'x',
      code: undefined,
      durationMs: 10,
    });
    onWorker({ type: 'stalled', queue: 'image:poster', jobId: '3' });
    onCache({ type: 'hit', entry: 'trending', tier: 'redis' });
    onCache({ type: 'hit', entry: 'trending', tier: 'local' });
    onCache({ type: 'miss', entry: 'trending', reason: 'absent' });
    onCache({ type: 'stale', entry: 'recommendations', reason: 'revalidating' });
    onCache({
      type: 'redis_error',
      entry: 'search',
      operation: 'get',
      timeout: true,
      error: new Error('t'),
    });
    onCache({ type: 'load', entry: 'trending', durationMs: 20, ok: true });
    onSession({ type: 'admit', result: 'admitted', evicted: false });
    onSession({ type: 'admit', result: 'replayed', evicted: false });
    onSession({ type: 'admit', result: 'device_limit', evicted: false });
    onSession({ type: 'heartbeat', result: 'ok' });
    onSession({ type: 'heartbeat', result: 'session_not_found' });
    for (const id of ['s1', 's2']) await connection.set(keyspace.session(keyspace.sessionId('f', id)), '{}', 'EX', 60);

    const { get, sample } = await scrape(metrics);
    const value = (name: string, labels: Record<string, string>) =>
      Number(get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value);

    const jobs = get(METRIC_NAMES.queueJobs);
    expect(jobs?.type).toBe('GAUGE');
    expect(jobs?.metrics).toHaveLength(6 * 7);
    expect(value(METRIC_NAMES.queueJobs, { queue: 'video:transcode', state: 'waiting' })).toBe(3);
    expect(value(METRIC_NAMES.queueJobs, { queue: 'image:poster', state: 'prioritized' })).toBe(1);
    expect(value(METRIC_NAMES.queueJobs, { queue: 'video:subtitle', state: 'delayed' })).toBe(1);
    expect(value(METRIC_NAMES.queueJobs, { queue: 'image:optimize', state: 'active' })).toBe(0);
    expect(new Set(jobs?.metrics.map((m) => m.labels?.state))).toEqual(
      new Set(['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed', 'paused']),
    );

    expect(value(METRIC_NAMES.queueJobsCompleted, { queue: 'video:transcode' })).toBe(1);
    expect(value(METRIC_NAMES.queueJobsFailed, { queue: 'video:transcode' })).toBe(1);
    expect(value(METRIC_NAMES.queueJobsRetried, { queue: 'video:transcode' })).toBe(1);
    expect(value(METRIC_NAMES.queueJobsStalled, { queue: 'image:poster' })).toBe(1);
    expect(get(METRIC_NAMES.queueJobDuration)?.type).toBe('HISTOGRAM');
    expect(sample(`${METRIC_NAMES.queueJobDuration}_count{queue="video:transcode"}`)).toBe(3);
    expect(sample(`${METRIC_NAMES.queueJobDuration}_sum{queue="video:transcode"}`)).toBeCloseTo(1.52);

    expect(value(METRIC_NAMES.cacheRequests, { entry: 'trending', result: 'hit' })).toBe(2);
    expect(value(METRIC_NAMES.cacheRequests, { entry: 'trending', result: 'miss' })).toBe(1);
    expect(value(METRIC_NAMES.cacheRequests, { entry: 'recommendations', result: 'stale' })).toBe(1);
    expect(value(METRIC_NAMES.cacheRequests, { entry: 'search', result: 'error' })).toBe(1);
    expect(sample(`${METRIC_NAMES.cacheLoaderDuration}_count{entry="trending"}`)).toBe(1);

    expect(value(METRIC_NAMES.streamAdmissions, { result: 'admitted' })).toBe(2);
    expect(value(METRIC_NAMES.streamAdmissions, { result: 'device_limit' })).toBe(1);
    expect(value(METRIC_NAMES.streamHeartbeats, { result: 'session_not_found' })).toBe(1);
    expect(Number(get(METRIC_NAMES.streamSessionsActive)?.metrics[0]?.value)).toBe(2);

    expect(Number(get(METRIC_NAMES.redisConnectedClients)?.metrics[0]?.value)).toBeGreaterThanOrEqual(1);
    expect(Number(get(METRIC_NAMES.redisMemoryUsed)?.metrics[0]?.value)).toBeGreaterThan(100_000);
    expect(Number(get(METRIC_NAMES.redisCommandsProcessed)?.metrics[0]?.value)).toBeGreaterThan(0);
    expect(get(METRIC_NAMES.redisKeyspaceHits)?.type).toBe('COUNTER');
    expect(Number(get(METRIC_NAMES.redisEvictionPolicyNoeviction)?.metrics[0]?.value)).toBe(1);
    expect(get('process_cpu_user_seconds_total')).toBeDefined();
    expect(get('redis_used_memory_bytes')).toBeUndefined();
  });

  it('issues a constant number of Redis commands per scrape: 10 jobs or 100,000 waiting', async () => {
    const measure = async (namespace: string, jobs: number) => {
      const ks = createKeyspace({ namespace, cluster: redis.cluster });
      const loc = ks.queue('video:transcode');
      const queue = new Queue(loc.name, { connection, prefix: loc.prefix });
      for (let i = 0; i < jobs; i += 5000) {
        await queue.addBulk(
          Array.from({ length: Math.min(5000, jobs - i) }, () => ({ name: 'video:transcode', data: {} })),
        );
      }
      await queue.close();
      const local = createJobInspector(connection, ks);
      const metrics = createTvMetrics({ queues: local, keyspace: ks, defaultMetrics: false });
      await metrics.metrics(); // load scripts once
      const before = await commandsProcessed();
      const t0 = performance.now();
      const text = await metrics.metrics();
      const ms = performance.now() - t0;
      const after = await commandsProcessed();
      await local.close();
      expect(text).toContain(`state="waiting"} ${jobs}`);
      // Minus the INFO that read `before` on each server.
      return { commands: after - before - (await masterNodes(redis.client)).length, ms };
    };
    const small = await measure(`${ns}-small`, 10);
    const large = await measure(`${ns}-large`, 100_000);
    expect(large.commands).toBe(small.commands);
    // Commands Redis counts, Lua-internal calls included: a fixed number per queue.
    expect(small.commands).toBeLessThanOrEqual(6 * 10);
    console.log(
      `scrape: ${small.commands} Redis commands; ${small.ms.toFixed(1)} ms with 10 jobs, ${large.ms.toFixed(1)} ms with 100,000`,
    );
  }, 120_000);
});
