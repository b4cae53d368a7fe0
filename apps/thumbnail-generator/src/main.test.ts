import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QUEUE_NAMES } from '@nself-tv/queues';
import { createKeyspace } from '@nself-tv/redis-keys';
import {
  jobApi,
  killAppProcesses,
  type RedisServerHandle,
  startAppProcess,
  startRedisServer,
} from '@nself-tv/test-redis';
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noisyImage, onePixelPng, sidewaysJpeg } from './test-images.js';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const TOKEN = 'test-api-token-0123456789';
const bucket = 'media';
let server: RedisServerHandle;
let mediaRoot: string;

beforeAll(async () => {
  server = await startRedisServer();
  mediaRoot = await mkdtemp(join(tmpdir(), 'tg-main-'));
  await mkdir(join(mediaRoot, bucket, 'in'), { recursive: true });
  const files: [string, Buffer][] = [
    ['in/sideways.jpg', await sidewaysJpeg()],
    ['in/one.png', await onePixelPng()],
    ['in/notes.jpg', Buffer.from('plain text, not a picture')],
    ['in/large.png', await noisyImage(3000, 2000, 'png')],
    ['in/large.jpg', await noisyImage(3000, 2000, 'jpeg')],
  ];
  for (const [key, bytes] of files) await writeFile(join(mediaRoot, bucket, key), bytes);
});
afterAll(async () => {
  killAppProcesses();
  await server.close();
  await rm(mediaRoot, { recursive: true, force: true });
});

const startApp = (env: Record<string, string> = {}) =>
  startAppProcess(main, 'thumbnail-generator listening', {
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL: server.url,
    MEDIA_ROOT: mediaRoot,
    API_TOKEN: TOKEN,
    ...env,
  });
const post = (address: string, kind: string, body: unknown) => jobApi(address, TOKEN).submit(kind, body);
const settled = (address: string, id: string, ms = 60_000) => jobApi(address, TOKEN).settled(id, ms);

describe('thumbnail-generator app', () => {
  it.each([
    [{ PORT: 'eighty' }, 'thumbnail-generator: refusing to start: PORT: '],
    [{ API_TOKEN: 'short' }, 'thumbnail-generator: refusing to start: API_TOKEN: must be at least 16 characters'],
    [
      { MAX_INPUT_PIXELS: '-1' },
      'thumbnail-generator: refusing to start: MAX_INPUT_PIXELS: expected a whole number from 1 to 1000000000',
    ],
    // One error names every bad variable, the app's own among the runner's.
    [
      { PORT: 'eighty', MAX_INPUT_PIXELS: '0', MAX_VIDEO_PIXELS: '1' },
      'thumbnail-generator: refusing to start: PORT: expected a whole number from 0 to 65535; MAX_VIDEO_PIXELS: expected at least 64; MAX_INPUT_PIXELS: expected at least 1',
    ],
    [{ QUEUE_IMAGE_POSTER_CONCURRENCY: 'many' }, 'QUEUE_IMAGE_POSTER_CONCURRENCY: expected a whole number'],
  ])('refuses to start on %o, naming the variable', async (env, message) => {
    const child = spawn(process.execPath, [main], {
      env: { ...process.env, REDIS_URL: server.url, MEDIA_ROOT: mediaRoot, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain(message);
  });

  it('runs poster, sprite and optimize jobs over HTTP; a bad image fails once and the worker carries on', async () => {
    const app = startApp();
    const address = await app.address;

    const badBody = await post(address, 'poster', { mediaId: 'a:b', familyId: 'f', source: { bucket, key: 'x' } });
    expect(badBody.status).toBe(400);
    expect(badBody.body).toMatchObject({ error: 'bad_request', field: expect.stringMatching(/mediaId|output/) });

    const notImage = await post(address, 'poster', {
      mediaId: 'n1',
      familyId: 'f',
      source: { bucket, key: 'in/notes.jpg' },
      output: { bucket, prefix: 'p/n1' },
    });
    const failed = await settled(address, notImage.body.jobId);
    expect(failed).toMatchObject({ state: 'failed', attemptsMade: 1 });
    expect(failed.failedReason).toContain('media/in/notes.jpg: not an image');

    const queued = await Promise.all([
      post(address, 'poster', {
        mediaId: 'm1',
        familyId: 'f',
        source: { bucket, key: 'in/sideways.jpg' },
        output: { bucket, prefix: 'p/m1' },
        formats: ['webp', 'jpeg'],
      }),
      post(address, 'sprite', {
        mediaId: 'm1',
        familyId: 'f',
        output: { bucket, prefix: 's/m1' },
        images: [0, 5, 10].map((timestamp) => ({ bucket, key: 'in/sideways.jpg', timestamp })),
      }),
      post(address, 'optimize', {
        source: { bucket, key: 'in/sideways.jpg' },
        output: { bucket, key: 'o/m1.webp' },
      }),
    ]);
    for (const q of queued) expect(q).toMatchObject({ status: 202, body: { status: 'queued' } });
    const [posterJob, spriteJob, optimizeJob] = await Promise.all(queued.map((q) => settled(address, q.body.jobId)));
    expect(posterJob?.state, posterJob?.failedReason).toBe('completed');
    expect(posterJob?.result.outputs).toHaveLength(6);
    expect(spriteJob?.state, spriteJob?.failedReason).toBe('completed');
    expect(optimizeJob?.state, optimizeJob?.failedReason).toBe('completed');
    expect(spriteJob?.result).toMatchObject({ vttKey: 's/m1/sprites.vtt', thumbnailCount: 3 });
    expect(optimizeJob?.result).toMatchObject({ key: 'o/m1.webp', format: 'webp', keptOriginal: false });
    const written = await sharp(join(mediaRoot, bucket, 'p/m1/poster-400w.jpg')).metadata();
    expect([written.width, written.height, written.orientation]).toEqual([400, 600, undefined]);

    const health = (await fetch(`${address}/health`).then((r) => r.json())) as {
      queues: { queue: string; completed: number; failed: number }[];
    };
    expect(health.queues.map((q) => [q.queue, q.completed, q.failed])).toEqual([
      ['image:poster', 1, 1],
      ['image:sprite', 1, 0],
      ['image:optimize', 1, 0],
    ]);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
  }, 120_000);

  it('gives jobs enqueued over HTTP the QUEUE_<NAME>_ATTEMPTS/BACKOFF_* it was started with; a missing source fails once', async () => {
    const app = startApp({
      QUEUE_IMAGE_POSTER_ATTEMPTS: '5',
      QUEUE_IMAGE_POSTER_BACKOFF_TYPE: 'fixed',
      QUEUE_IMAGE_POSTER_BACKOFF_DELAY_MS: '10',
    });
    const address = await app.address;
    const missing = await post(address, 'poster', {
      mediaId: 'gone',
      familyId: 'f',
      source: { bucket, key: 'in/never-uploaded.jpg' },
      output: { bucket, prefix: 'p/gone' },
    });
    expect(missing.status).toBe(202);
    const redis = new Redis(server.url);
    const opts = JSON.parse((await redis.hget(`bull:image:poster:${missing.body.jobId}`, 'opts')) ?? '{}');
    redis.disconnect();
    expect(opts).toMatchObject({ attempts: 5, backoff: { type: 'fixed', delay: 10 } });
    // A source that does not exist is the same on every attempt: storage's NOT_FOUND is final.
    const failed = await settled(address, missing.body.jobId);
    expect(failed).toMatchObject({ state: 'failed', attemptsMade: 1 });
    expect(failed.failedReason).toContain('does not exist');
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
  }, 60_000);

  it('keeps renewing job locks with every queue at full concurrency on large images: no job stalls', async () => {
    const lock = { LOCK_DURATION_MS: '1000', STALLED_INTERVAL_MS: '1000' };
    const env: Record<string, string> = {};
    for (const queue of ['POSTER', 'SPRITE', 'OPTIMIZE'])
      for (const [k, v] of Object.entries(lock)) env[`QUEUE_IMAGE_${queue}_${k}`] = v;
    const app = startApp(env);
    const address = await app.address;

    const keyspace = createKeyspace();
    const connections: Redis[] = [];
    const events = QUEUE_NAMES.filter((q) => q.startsWith('image:')).map((q) => {
      const { prefix, name } = keyspace.queue(q);
      const connection = new Redis(server.url, { maxRetriesPerRequest: null });
      connections.push(connection);
      return new QueueEvents(name, { prefix, connection });
    });
    const stalled: string[] = [];
    for (const e of events) e.on('stalled', ({ jobId }) => stalled.push(jobId));
    await Promise.all(events.map((e) => e.waitUntilReady()));

    // More jobs than slots in every queue (4 poster, 2 sprite, 4 optimize), each much longer than the lock.
    const large = (key: string) => ({ bucket, key });
    const ids: string[] = [];
    const submit = async (kind: string, body: unknown) => {
      const r = await post(address, kind, body);
      expect(r.status).toBe(202);
      ids.push(r.body.jobId);
    };
    for (let i = 0; i < 6; i++) {
      await submit('poster', {
        mediaId: `big${i}`,
        familyId: 'f',
        source: large('in/large.png'),
        output: { bucket, prefix: `big/p${i}` },
        formats: ['webp', 'avif'],
      });
      await submit('optimize', { source: large('in/large.jpg'), output: { bucket, key: `big/o${i}.webp` } });
    }
    for (let i = 0; i < 3; i++) {
      await submit('sprite', {
        mediaId: `big${i}`,
        familyId: 'f',
        output: { bucket, prefix: `big/s${i}` },
        images: Array.from({ length: 12 }, (_, t) => ({ ...large('in/large.jpg'), timestamp: t })),
      });
    }
    const jobs = await Promise.all(ids.map((id) => settled(address, id, 240_000)));
    for (const job of jobs) expect(job.state, job.failedReason).toBe('completed');
    // The setting is meaningful: jobs ran for several lock periods while sharing two cores.
    const longest = Math.max(...jobs.map((j) => j.finishedAt - j.processedAt));
    expect(longest).toBeGreaterThan(3000);
    expect(stalled).toEqual([]);
    const metrics = await fetch(`${address}/metrics`).then((r) => r.text());
    expect(metrics).not.toMatch(/^nself_tv_queue_jobs_stalled_total\{[^}]*\} [1-9]/m);

    await Promise.all(events.map((e) => e.close()));
    for (const c of connections) c.disconnect();
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
  }, 300_000);
});
