import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJobInspector, createProducer, type QueueProcessor, queuesOf } from '@nself-tv/queues';
import {
  createKeyspace,
  createRequestConnection,
  createWorkerConnection,
  loadRedisConfig,
  QUEUE_NAMES,
} from '@nself-tv/redis-keys';
import { ConfigError } from '@nself-tv/service/settings';
import { scanKeys, startRedisServer, useTestRedis } from '@nself-tv/test-redis';
import { Queue, Worker } from 'bullmq';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DashboardMode, queueDashboard } from './dashboard.js';
import { startWorkerApp } from './worker-app.js';

const redis = useTestRedis();
const keyspace = createKeyspace({ namespace: redis.namespace, cluster: redis.cluster });
const connection = createRequestConnection(loadRedisConfig(redis.env), { commandTimeoutMs: 5000 });
const producer = createProducer({ connection, keyspace });
const inspector = createJobInspector(connection, keyspace);
const TOKEN = 'dashboard-token-0123456789';
const PATH = '/admin/queues';
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await producer.close();
  await inspector.close();
  connection.disconnect();
});

const transcodeJob = (mediaId: string) => ({
  mediaId,
  familyId: 'fam',
  source: { bucket: 'media', key: `uploads/${mediaId}.mkv` },
  output: { bucket: 'media', prefix: `hls/${mediaId}/` },
});
const REASON = 'ffmpeg: Invalid data found when processing input (uploads/broken.mkv)';
let failedJobId = '';

beforeAll(async () => {
  for (const m of ['a', 'b', 'c']) await producer.enqueue('video:transcode', transcodeJob(m));
  await producer.enqueue('image:poster', transcodeJob('p'), { priority: 2 });
  await producer.enqueue('video:trickplay', transcodeJob('t'), { delayMs: 600_000 });
  // A job that failed for good, the way a worker leaves one: its reason in the job.
  const location = keyspace.queue('video:subtitle');
  const queue = new Queue(location.name, { connection, prefix: location.prefix });
  const job = await queue.add('video:subtitle', transcodeJob('broken'), { attempts: 1, jobId: 'broken-subtitle' });
  failedJobId = job.id as string;
  const workerConnection = createWorkerConnection(loadRedisConfig(redis.env));
  const worker = new Worker(
    location.name,
    async () => {
      throw new Error(REASON);
    },
    { connection: workerConnection, prefix: location.prefix, autorun: true },
  );
  await new Promise<void>((resolve) => worker.on('failed', () => resolve()));
  await worker.close();
  await queue.close();
  workerConnection.disconnect();
}, 30_000);

async function dashboard(mode: DashboardMode): Promise<string> {
  const app: FastifyInstance = Fastify();
  await app.register(queueDashboard, {
    connection,
    keyspace,
    path: PATH,
    mode,
    tokens: [TOKEN],
    title: 't',
  });
  // Its queue handles close with the app.
  closers.push(() => app.close());
  return app.listen({ port: 0, host: '127.0.0.1' });
}
const basic = (password: string, user = 'operator') => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('queue dashboard', () => {
  it('answers 401 with a Basic challenge to no token, a wrong one, or a malformed header', async () => {
    const base = await dashboard('read-only');
    for (const authorization of [
      undefined,
      'Bearer wrong-token-0123456789',
      basic('wrong-token-0123456789'),
      'Basic %%%',
      `Bearer ${TOKEN} extra`,
    ]) {
      for (const [method, path] of [
        ['GET', ''],
        ['GET', '/api/queues'],
        ['GET', '/static/images/logo.svg'],
        ['GET', '/no/such/page'],
        ['PUT', '/api/queues/video:transcode/1/retry'],
      ]) {
        const res = await fetch(`${base}${PATH}${path}`, { method, headers: authorization ? { authorization } : {} });
        expect(res.status, `${authorization} ${path}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
        expect(await res.json()).toMatchObject({ error: 'unauthorized' });
      }
    }
  });

  it('answers 404 to an unknown page only once the token is shown', async () => {
    const base = await dashboard('read-only');
    const res = await fetch(`${base}${PATH}/no/such/page`, { headers: { authorization: basic(TOKEN) } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'not_found' });
  });

  it('shows all six spec queues with the counts the queues hold, and reading writes nothing', async () => {
    const base = await dashboard('read-only');
    const before = await scanKeys(redis.client, `${redis.namespace}:*`);
    const page = await fetch(`${base}${PATH}`, { headers: { authorization: basic(TOKEN) } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('cache-control')).toBe('no-store');
    const res = await fetch(`${base}${PATH}/api/queues`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const { queues } = (await res.json()) as {
      queues: { name: string; counts: Record<string, number>; readOnlyMode: boolean }[];
    };
    expect(queues.map((q) => q.name).sort()).toEqual([...QUEUE_NAMES].sort());
    const shown = Object.fromEntries(queues.map((q) => [q.name, q.counts]));
    for (const counts of await inspector.counts()) {
      for (const state of ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'] as const) {
        expect(shown[counts.queue]?.[state] ?? 0, `${counts.queue} ${state}`).toBe(counts[state]);
      }
    }
    expect(shown['video:transcode']?.waiting).toBe(3);
    expect(shown['video:subtitle']?.failed).toBe(1);
    expect(queues.every((q) => q.readOnlyMode)).toBe(true);
    expect(await scanKeys(redis.client, `${redis.namespace}:*`)).toEqual(before);
  });

  it('shows a failed job with its reason and data', async () => {
    const base = await dashboard('read-only');
    const res = await fetch(`${base}${PATH}/api/queues/video:subtitle/${failedJobId}`, {
      headers: { authorization: basic(TOKEN) },
    });
    expect(res.status).toBe(200);
    const { job } = (await res.json()) as { job: { failedReason: string; data: { mediaId: string } } };
    expect(job.failedReason).toBe(REASON);
    expect(job.data.mediaId).toBe('broken');
  });

  it('read-only: every change is refused with 403 and nothing moves', async () => {
    const base = await dashboard('read-only');
    const headers = { authorization: basic(TOKEN) };
    for (const [method, path] of [
      ['PUT', `/api/queues/video:subtitle/${failedJobId}/retry`],
      ['PUT', '/api/queues/video:subtitle/retry/failed'],
      ['PUT', '/api/queues/video:transcode/clean/waiting'],
      ['PUT', '/api/queues/video:transcode/empty'],
      ['PUT', '/api/queues/video:transcode/obliterate'],
      ['PUT', '/api/queues/pause'],
      ['POST', '/api/queues/video:transcode/add'],
      ['PATCH', `/api/queues/video:subtitle/${failedJobId}/update-data`],
    ] as const) {
      const res = await fetch(`${base}${PATH}${path}`, { method, headers });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(await res.json()).toMatchObject({ error: 'policy_denied' });
    }
    const [subtitle] = (await inspector.counts()).filter((c) => c.queue === 'video:subtitle');
    expect(subtitle?.failed).toBe(1);
    expect((await inspector.counts()).find((c) => c.queue === 'video:transcode')?.waiting).toBe(3);
  });

  it('read-write: retries a failed job, but not for another site', async () => {
    const base = await dashboard('read-write');
    const url = `${base}${PATH}/api/queues/video:subtitle/${failedJobId}/retry`;
    const forged = await fetch(url, {
      method: 'PUT',
      headers: { authorization: basic(TOKEN), origin: 'https://evil.example' },
    });
    expect(forged.status).toBe(403);
    expect((await inspector.getJob(failedJobId))?.state).toBe('failed');
    const res = await fetch(url, { method: 'PUT', headers: { authorization: basic(TOKEN), origin: base } });
    expect(res.status).toBe(204);
    expect((await inspector.getJob(failedJobId))?.state).toBe('waiting');
  });

  it('refuses paths that are not its own and a board without a token', async () => {
    const register = async (options: Parameters<typeof queueDashboard>[1]) => {
      const app = Fastify();
      closers.push(() => app.close().catch(() => undefined));
      await app.register(queueDashboard, options);
    };
    for (const path of ['/api/queues', '/metrics', 'admin', '/admin/', '/Admin', '/admin/../api', '/health/x']) {
      await expect(register({ connection, path, mode: 'read-only', tokens: [TOKEN], title: 't' })).rejects.toThrow(
        /dashboard path/,
      );
    }
    await expect(register({ connection, path: PATH, mode: 'read-only', tokens: [''], title: 't' })).rejects.toThrow(
      /needs a token/,
    );
  });
});

describe('queue dashboard in a worker app (DASHBOARD, DASHBOARD_TOKEN, DASHBOARD_PATH)', () => {
  it('is off unless configured, never without a token, and mounted where DASHBOARD_PATH says', async () => {
    const own = await startRedisServer();
    const mediaRoot = await mkdtemp(join(tmpdir(), 'dash-'));
    const never: QueueProcessor<never> = async () => {
      throw new Error('not in this test');
    };
    const processors = () => Object.fromEntries(queuesOf('thumbnail-generator').map((q) => [q, never]));
    const start = (env: Record<string, string>) =>
      startWorkerApp({
        name: 'thumbnail-generator',
        defaultPort: 0,
        routes: {},
        processors,
        env: { REDIS_URL: own.url, MEDIA_ROOT: mediaRoot, LOG_LEVEL: 'warn', ...env },
      });
    try {
      for (const [env, message] of [
        [{ DASHBOARD: 'read-write' }, /DASHBOARD: read-write needs DASHBOARD_TOKEN or API_TOKEN/],
        [{ DASHBOARD: 'on' }, /^DASHBOARD: /],
        [{ DASHBOARD: 'read-only', DASHBOARD_TOKEN: 'short' }, /^DASHBOARD_TOKEN: /],
        [{ DASHBOARD: 'read-only', API_TOKEN: TOKEN, DASHBOARD_PATH: '/api/queues' }, /^DASHBOARD_PATH: .*\/api/],
      ] as const) {
        const started = start(env);
        await expect(started).rejects.toBeInstanceOf(ConfigError);
        await expect(started).rejects.toThrow(message);
      }

      const off = await start({ API_TOKEN: TOKEN });
      expect((await fetch(`${off.address}${PATH}`, { headers: { authorization: basic(TOKEN) } })).status).toBe(404);
      await off.stop('test');

      const separate = 'separate-dashboard-token-42';
      const on = await start({
        API_TOKEN: TOKEN,
        DASHBOARD: 'read-only',
        DASHBOARD_TOKEN: separate,
        DASHBOARD_PATH: '/ops/q',
      });
      expect((await fetch(`${on.address}/ops/q`)).status).toBe(401);
      // A separate token replaces the app's token for the dashboard.
      expect((await fetch(`${on.address}/ops/q`, { headers: { authorization: basic(TOKEN) } })).status).toBe(401);
      const page = await fetch(`${on.address}/ops/q`, { headers: { authorization: basic(separate) } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('nself-tv thumbnail-generator queues');
      await on.stop('test');
    } finally {
      await own.close();
      await rm(mediaRoot, { recursive: true, force: true });
    }
  }, 60_000);
});
