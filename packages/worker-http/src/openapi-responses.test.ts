// The worker app's OpenAPI document against what it really answers: a real app (the
// video-processor's routes, ingests on) on its own redis-server, every documented route called,
// success and refusals, with Redis up and down; every answer must be a documented status with
// the documented content type and a body its schema accepts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningService } from '@nself-tv/service';
import { type RedisServerHandle, startRedisServer } from '@nself-tv/test-redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiChecker } from './openapi-check.js';
import { startWorkerApp } from './worker-app.js';

const TOKEN = 'openapi-test-token-0123456789';
let server: RedisServerHandle;
let mediaRoot: string;
const running: RunningService[] = [];
beforeAll(async () => {
  server = await startRedisServer();
  mediaRoot = await mkdtemp(join(tmpdir(), 'openapi-'));
});
afterAll(async () => {
  for (const app of running) await app.stop('test');
  await server.close();
  await rm(mediaRoot, { recursive: true, force: true });
}, 60_000);

const start = async (env: Record<string, string>) => {
  const app = await startWorkerApp({
    name: 'video-processor',
    defaultPort: 0,
    ingestRoutes: true,
    routes: { transcode: 'video:transcode', trickplay: 'video:trickplay', subtitle: 'video:subtitle' },
    processors: () => ({
      // Every job fails for good at once: its status then carries a failedReason.
      'video:transcode': async () => {
        throw Object.assign(new Error('not a video'), { code: 'NOT_MEDIA' });
      },
      'video:trickplay': async () => {
        throw Object.assign(new Error('not a video'), { code: 'NOT_MEDIA' });
      },
      'video:subtitle': async () => ({ tracks: [], skipped: [] }),
    }),
    env: {
      REDIS_URL: server.url,
      MEDIA_ROOT: mediaRoot,
      LOG_LEVEL: 'silent',
      HOST: '127.0.0.1',
      SHUTDOWN_DEADLINE_MS: '2000',
      ...env,
    },
  });
  running.push(app);
  return app;
};

describe('the worker OpenAPI document, against real answers', () => {
  it('every answer is documented: status, content type and body', async () => {
    const app = await start({ API_TOKEN: TOKEN });
    const doc = (await (await fetch(`${app.address}/openapi.json`)).json()) as Parameters<typeof openApiChecker>[0] & {
      servers: unknown;
    };
    expect(doc.servers).toEqual([{ url: '/', description: 'this app' }]);
    const checker = openApiChecker(doc);
    const called = new Set<string>();
    const problems: string[] = [];
    const call = async (
      method: string,
      template: string,
      path: string,
      init: { token?: string | null; body?: string; type?: string; headers?: Record<string, string> } = {},
    ) => {
      const headers: Record<string, string> = { ...init.headers };
      if (init.token !== null) headers.authorization = `Bearer ${init.token ?? TOKEN}`;
      if (init.body !== undefined) headers['content-type'] = init.type ?? 'application/json';
      const res = await fetch(`${app.address}${path}`, { method, headers, body: init.body });
      called.add(`${method.toLowerCase()} ${template}`);
      problems.push(...(await checker.check(method, template, res.clone())));
      return res;
    };
    const job = JSON.stringify({
      mediaId: 'film',
      familyId: 'fam',
      source: { bucket: 'media', key: 'uploads/film.mkv' },
      output: { bucket: 'media', prefix: 'hls/film/' },
    });

    for (const path of ['/health', '/ready', '/metrics', '/openapi.json', '/api/v1/queues/status']) {
      expect((await call('GET', path, path)).status, path).toBe(200);
    }
    // Jobs: queued, refused in every documented way, then read back once they failed.
    const queued = await call('POST', '/api/v1/jobs/transcode', '/api/v1/jobs/transcode', { body: job });
    expect(queued.status).toBe(202);
    const { jobId } = (await queued.json()) as { jobId: string };
    await call('POST', '/api/v1/jobs/trickplay', '/api/v1/jobs/trickplay', {
      body: JSON.stringify({ ...JSON.parse(job), intervalSeconds: 5 }),
    });
    await call('POST', '/api/v1/jobs/subtitle', '/api/v1/jobs/subtitle', { body: job });
    for (const [init, status] of [
      [{ body: '{"mediaId":' }, 400],
      [{ body: '{}' }, 400],
      [{ body: job, token: null }, 401],
      [{ body: job, token: 'wrong-token-wrong-token' }, 401],
      [{ body: job, type: 'text/plain' }, 415],
      [{ body: '<job/>', type: 'application/xml' }, 415],
    ] as const) {
      expect((await call('POST', '/api/v1/jobs/transcode', '/api/v1/jobs/transcode', init)).status).toBe(status);
    }
    const deadline = Date.now() + 10_000;
    let state = '';
    while (state !== 'failed' && Date.now() < deadline) {
      const res = await call('GET', '/api/v1/jobs/{id}', `/api/v1/jobs/${jobId}`);
      state = ((await res.json()) as { state: string }).state;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(state).toBe('failed');
    expect((await call('GET', '/api/v1/jobs/{id}', '/api/v1/jobs/no-such-job')).status).toBe(404);
    expect((await call('GET', '/api/v1/jobs/{id}', '/api/v1/jobs/a*b')).status).toBe(400);
    expect((await call('GET', '/api/v1/jobs/{id}', `/api/v1/jobs/${jobId}`, { token: null })).status).toBe(401);

    // Ingests.
    const ingest = JSON.stringify({ mediaId: 'film-i', familyId: 'fam', source: { bucket: 'media', key: 'u.mkv' } });
    const key = { 'idempotency-key': 'openapi-ingest' };
    expect((await call('POST', '/api/v1/ingests', '/api/v1/ingests', { body: ingest, headers: key })).status).toBe(202);
    for (const [init, status] of [
      [{ body: ingest, headers: key }, 202],
      [{ body: ingest.replace('film-i', 'film-j'), headers: key }, 409],
      [{ body: '[]' }, 400],
      [{ body: ingest, headers: { 'idempotency-key': 'bad key' } }, 400],
      [{ body: ingest, type: 'text/plain' }, 415],
      [{ body: ingest, token: null }, 401],
    ] as const) {
      expect((await call('POST', '/api/v1/ingests', '/api/v1/ingests', init)).status).toBe(status);
    }
    for (const method of ['GET', 'DELETE']) {
      expect((await call(method, '/api/v1/ingests/{id}', '/api/v1/ingests/openapi-ingest')).status).toBe(200);
      expect((await call(method, '/api/v1/ingests/{id}', '/api/v1/ingests/nope')).status).toBe(404);
      expect((await call(method, '/api/v1/ingests/{id}', '/api/v1/ingests/a*b')).status).toBe(400);
      expect((await call(method, '/api/v1/ingests/{id}', '/api/v1/ingests/x', { token: null })).status).toBe(401);
    }

    // An app without API_TOKEN: the job API is off.
    const closed = await start({});
    const off = await fetch(`${closed.address}/api/v1/jobs/transcode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: job,
    });
    problems.push(...(await checker.check('POST', '/api/v1/jobs/transcode', off)));
    expect(off.status).toBe(403);

    // Redis away: every route that needs it says so in its documented shape.
    await server.stop();
    try {
      for (const [method, template, path, body] of [
        ['GET', '/ready', '/ready', undefined],
        ['GET', '/health', '/health', undefined],
        ['GET', '/api/v1/queues/status', '/api/v1/queues/status', undefined],
        ['GET', '/api/v1/jobs/{id}', `/api/v1/jobs/${jobId}`, undefined],
        ['POST', '/api/v1/jobs/transcode', '/api/v1/jobs/transcode', job],
        ['POST', '/api/v1/ingests', '/api/v1/ingests', ingest],
        ['GET', '/api/v1/ingests/{id}', '/api/v1/ingests/openapi-ingest', undefined],
      ] as const) {
        const res = await call(method, template, path, body === undefined ? {} : { body });
        expect([200, 503], `${method} ${path}`).toContain(res.status);
      }
    } finally {
      await server.start();
    }
    expect(problems).toEqual([]);
    // Every route of the document was called.
    expect(checker.routes().filter(([m, p]) => !called.has(`${m} ${p}`))).toEqual([]);
  }, 60_000);
});
