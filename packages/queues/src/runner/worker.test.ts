import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probe, run, tools } from '@nself-tv/media-tools';
import { createKeyspace, createWorkerConnection, loadRedisConfig } from '@nself-tv/redis-keys';
import { createFileStorage } from '@nself-tv/storage';
import { startRedisServer, useTestRedis } from '@nself-tv/test-redis';
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { createProducer } from '../producer.js';
import { optimizeJob, optimizeResult, queueTestKit, retryPolicy, waitFor } from '../test-helpers.js';
import type { RunObserver } from './observers.js';
import { isFinalFailure } from './retry-policy.js';
import { createQueueWorker, type QueueWorker } from './worker.js';
import type { WorkerEvent } from './worker-events.js';

const redis = useTestRedis();
const kit = queueTestKit(redis);
const producer = createProducer({ connection: kit.requestConnection(), keyspace: kit.keyspace });
const raw = new Queue('optimize', { connection: kit.workerConnection(), prefix: kit.keyspace.queuePrefix('image') });
const workers: QueueWorker[] = [];
afterAll(async () => {
  await Promise.all(workers.map((w) => w.close(1000)));
  await producer.close();
  await raw.close();
});

const jobState = async (id: string) => (await raw.getJob(id))?.getState();
const finished = (id: string) =>
  waitFor(async () => {
    const state = await jobState(id);
    return state === 'completed' || state === 'failed' ? state : undefined;
  }, 30_000);

const eventsOf = (events: WorkerEvent[], jobId: string) => events.filter((e) => 'jobId' in e && e.jobId === jobId);

describe('queue worker (image:optimize, real BullMQ)', () => {
  const events: WorkerEvent[] = [];
  let behaviour: (key: string, signal: AbortSignal) => Promise<void> = async () => undefined;
  const worker = createQueueWorker(
    'image:optimize',
    async (payload, ctx) => {
      await ctx.progress(50);
      await behaviour(payload.source.key, ctx.signal);
      await ctx.progress(100);
      return { ...optimizeResult, key: payload.output.key };
    },
    {
      connection: kit.workerConnection(),
      keyspace: kit.keyspace,
      overrides: { timeoutMs: 1500 },
      retryPolicy,
      onEvent: (e) => events.push(e),
      progressIntervalMs: 0,
    },
  );
  workers.push(worker);

  it('completes a valid job with its result, progress and events', async () => {
    const id = await producer.enqueue('image:optimize', optimizeJob('ok.jpg'));
    expect(await finished(id)).toBe('completed');
    const job = await raw.getJob(id);
    expect(job?.returnvalue).toEqual({ ...optimizeResult, key: 'ok.jpg.webp' });
    expect(job?.progress).toBe(100);
    expect(eventsOf(events, id).map((e) => e.type)).toEqual(['started', 'progress', 'progress', 'completed']);
  });

  it('fails an invalid payload after one attempt, naming the field, and keeps working', async () => {
    const bad = await raw.add('image:optimize', { source: { bucket: 'media' }, output: optimizeJob().output });
    const good = await producer.enqueue('image:optimize', optimizeJob('after-bad.jpg'));
    expect(await finished(bad.id as string)).toBe('failed');
    const job = await raw.getJob(bad.id as string);
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toMatch(/source\.key/);
    expect(await finished(good)).toBe('completed');
    expect(eventsOf(events, bad.id as string)).toMatchObject([
      { type: 'failed', final: true, code: 'INVALID_PAYLOAD' },
    ]);
  });

  it('fails at once on what the one retry policy calls final, and retries a failed tool run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'retry-policy-'));
    await mkdir(join(dir, 'media'));
    await writeFile(join(dir, 'media', 'notes.mkv'), 'just text');
    const storage = createFileStorage({ root: dir });
    const quick = createProducer({
      connection: kit.requestConnection(),
      keyspace: kit.keyspace,
      overrides: { 'image:optimize': { attempts: 2, backoff: { type: 'fixed', delay: 10 } } },
    });
    try {
      behaviour = async (key) => {
        // The real errors of the packages a processor uses, not stand-ins.
        if (key === 'missing.jpg') await storage.read({ bucket: 'media', key: 'missing.jpg' });
        if (key === 'outside.jpg') await storage.read({ bucket: 'media', key: '../outside.jpg' });
        if (key === 'notes.mkv') await probe(join(dir, 'media', 'notes.mkv'));
        if (key === 'tool-fails.jpg') await run(tools.ffmpeg, ['-v', 'error', '-no-such-option']);
      };
      const cases = [
        ['missing.jpg', 'NOT_FOUND', 1],
        ['outside.jpg', 'INVALID_LOCATION', 1],
        ['notes.mkv', 'NOT_MEDIA', 1],
        ['tool-fails.jpg', 'TOOL_FAILED', 2],
      ] as const;
      for (const [key, code, attempts] of cases) {
        const id = await quick.enqueue('image:optimize', optimizeJob(key));
        expect(await finished(id), key).toBe('failed');
        const failures = eventsOf(events, id).filter((e) => e.type === 'failed');
        const seen = `${key}: ${JSON.stringify(failures.map((e) => ('code' in e ? e.code : undefined)))}`;
        expect(failures.at(-1), seen).toMatchObject({ code, final: true });
        if (attempts === 1) {
          // Final at once: the attempt that met the code was the last one. (An attempt lost to the
          // machine before it, with a code of its own, is listed in the message.)
          expect(
            failures.filter((e) => 'code' in e && e.code === code),
            seen,
          ).toHaveLength(1);
          expect((await raw.getJob(id))?.attemptsMade, seen).toBe(failures.length);
        } else {
          expect((await raw.getJob(id))?.attemptsMade, seen).toBe(attempts);
        }
        expect(isFinalFailure({ code }, retryPolicy), key).toBe(attempts === 1);
      }
    } finally {
      behaviour = async () => undefined;
      await quick.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('retries a throwing processor with exponential backoff (2 s, 4 s) and fails it after 3 attempts', async () => {
    behaviour = async (key) => {
      if (key === 'throws.jpg') throw new Error('disk on fire');
    };
    const id = await producer.enqueue('image:optimize', optimizeJob('throws.jpg'));
    // Another job keeps flowing while this one backs off.
    await new Promise((r) => setTimeout(r, 300));
    const other = await producer.enqueue('image:optimize', optimizeJob('meanwhile.jpg'));
    expect(await finished(other)).toBe('completed');
    expect(await finished(id)).toBe('failed');
    const job = await raw.getJob(id);
    expect(job?.attemptsMade).toBe(3);
    expect(job?.failedReason).toBe('disk on fire');
    expect(eventsOf(events, id).filter((e) => e.type === 'started')).toHaveLength(3);
    const failures = eventsOf(events, id).filter((e) => e.type === 'failed') as Extract<
      WorkerEvent,
      { type: 'failed' }
    >[];
    expect(failures.map((f) => [f.attempt, f.final])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    const processed = job?.processedOn ?? 0;
    const firstTry = job?.timestamp ?? 0;
    // Two backoffs of 2 s and 4 s lie between the first and the last attempt.
    expect(processed - firstTry).toBeGreaterThanOrEqual(6000);
    behaviour = async () => undefined;
  }, 30_000);

  it('aborts a job that runs past its timeout and fires its signal', async () => {
    let sawAbort: unknown;
    behaviour = (key, signal) =>
      key === 'slow.jpg'
        ? new Promise((resolve) => {
            signal.addEventListener('abort', () => {
              sawAbort = signal.reason;
              resolve();
            });
          })
        : Promise.resolve();
    const id = await producer.enqueue('image:optimize', optimizeJob('slow.jpg'));
    await waitFor(() => eventsOf(events, id).some((e) => e.type === 'failed'), 10_000);
    expect(sawAbort).toMatchObject({ code: 'JOB_TIMEOUT' });
    expect(eventsOf(events, id).find((e) => e.type === 'failed')).toMatchObject({ final: false, code: 'JOB_TIMEOUT' });
    await raw.remove(id).catch(() => undefined);
    behaviour = async () => undefined;
  });

  it('cancels an active job: its signal fires and it fails without retry', async () => {
    let started = false;
    behaviour = (key, signal) =>
      key === 'cancel-me.jpg'
        ? new Promise((resolve) => {
            started = true;
            signal.addEventListener('abort', () => resolve());
          })
        : Promise.resolve();
    const id = await producer.enqueue('image:optimize', optimizeJob('cancel-me.jpg'));
    await waitFor(() => started);
    expect(worker.cancel(id, 'user asked')).toBe(true);
    expect(await finished(id)).toBe('failed');
    const job = await raw.getJob(id);
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toMatch(/cancelled/);
    behaviour = async () => undefined;
  });
});

describe('graceful shutdown', () => {
  it('lets a job run until the deadline, then puts it back in wait without counting the attempt', async () => {
    const events: WorkerEvent[] = [];
    let started = false;
    let signalled = false;
    const worker = createQueueWorker(
      'image:optimize',
      (_payload, ctx) =>
        new Promise((_, reject) => {
          started = true;
          ctx.signal.addEventListener('abort', () => {
            signalled = true;
            reject(ctx.signal.reason);
          });
        }),
      {
        connection: kit.workerConnection(),
        keyspace: createKeyspace({ namespace: `${redis.namespace}x`, cluster: redis.cluster }),
        onEvent: (e) => events.push(e),
      },
    );
    const queue = new Queue('optimize', {
      connection: kit.workerConnection(),
      prefix: createKeyspace({ namespace: `${redis.namespace}x`, cluster: redis.cluster }).queuePrefix('image'),
    });
    try {
      const job = await queue.add('image:optimize', optimizeJob('long.jpg'), { attempts: 3 });
      await waitFor(() => started);
      const t0 = performance.now();
      await worker.close(500);
      const took = performance.now() - t0;
      expect(signalled).toBe(true);
      expect(took).toBeGreaterThanOrEqual(450);
      expect(took).toBeLessThan(5000);
      expect(await job.getState()).toBe('waiting');
      expect((await queue.getJob(job.id as string))?.attemptsMade).toBe(0);
      expect(events.map((e) => e.type)).toContain('requeued');
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});

describe('observers', () => {
  it('are offered every run; a watching one hears it in order, and its stop cancels the run for good', async () => {
    const ns = createKeyspace({ namespace: `${redis.namespace}obs`, cluster: redis.cluster });
    const heard: string[] = [];
    const offered: string[] = [];
    const observer: RunObserver = {
      watch(run) {
        const key = (run.data as { source: { key: string } }).source.key;
        offered.push(key);
        // Only the runs it cares about get hooks: the others cost this one call.
        if (!key.startsWith('watched')) return undefined;
        return {
          started: async () => {
            heard.push(`${key} started`);
            return undefined;
          },
          progressed: async (percent) => {
            heard.push(`${key} progressed ${percent}`);
            return key === 'watched-stop.jpg' && percent >= 50 ? 'stop' : undefined;
          },
          completed: async () => void heard.push(`${key} completed`),
          failed: async ({ code, final }) => void heard.push(`${key} failed ${code} ${final}`),
        };
      },
    };
    const worker = createQueueWorker(
      'image:optimize',
      async (payload, ctx) => {
        await ctx.progress(50);
        if (ctx.signal.aborted) throw ctx.signal.reason;
        await ctx.progress(100);
        return { ...optimizeResult, key: payload.output.key };
      },
      { connection: kit.workerConnection(), keyspace: ns, progressIntervalMs: 0, observers: [observer] },
    );
    const producer = createProducer({ connection: kit.requestConnection(), keyspace: ns });
    const queue = new Queue('optimize', { connection: kit.workerConnection(), prefix: ns.queuePrefix('image') });
    try {
      const plain = await producer.enqueue('image:optimize', optimizeJob('plain.jpg'));
      const watched = await producer.enqueue('image:optimize', optimizeJob('watched.jpg'));
      const stopped = await producer.enqueue('image:optimize', optimizeJob('watched-stop.jpg'));
      await waitFor(async () => (await queue.getJob(stopped))?.finishedOn !== undefined);
      await waitFor(async () => (await queue.getJob(watched))?.finishedOn !== undefined);
      expect(await (await queue.getJob(plain))?.getState()).toBe('completed');
      expect(offered.sort()).toEqual(['plain.jpg', 'watched-stop.jpg', 'watched.jpg']);
      expect(heard.filter((h) => h.startsWith('watched.jpg'))).toEqual([
        'watched.jpg started',
        'watched.jpg progressed 50',
        'watched.jpg progressed 100',
        'watched.jpg completed',
      ]);
      expect(heard.filter((h) => h.startsWith('watched-stop.jpg'))).toEqual([
        'watched-stop.jpg started',
        'watched-stop.jpg progressed 50',
        'watched-stop.jpg failed JOB_CANCELLED true',
      ]);
      const job = await queue.getJob(stopped);
      expect(await job?.getState()).toBe('failed');
      expect(job?.attemptsMade).toBe(1);
    } finally {
      await worker.close(100);
      await producer.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});

describe('start-up checks', () => {
  it('warns when the Redis may evict keys', async () => {
    const server = await startRedisServer({ args: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'] });
    const connection = createWorkerConnection(loadRedisConfig({ REDIS_URL: server.url }));
    const events: WorkerEvent[] = [];
    const worker = createQueueWorker('image:optimize', async () => optimizeResult, {
      connection,
      onEvent: (e) => events.push(e),
    });
    try {
      const warning = await waitFor(() => events.find((e) => e.type === 'warning'));
      expect(warning).toMatchObject({ type: 'warning', message: expect.stringContaining('allkeys-lru') });
    } finally {
      await worker.close(100);
      connection.disconnect();
      await server.close();
    }
  });
});
