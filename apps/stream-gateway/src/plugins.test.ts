import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTvMetrics } from '@nself-tv/metrics';
import { createRequestConnection, loadRedisConfig } from '@nself-tv/redis-keys';
import { HttpError, httpErrors, jsonBodies } from '@nself-tv/service';
import { createSessionStore } from '@nself-tv/sessions';
import { createFileStorage, hlsLayout } from '@nself-tv/storage';
import { useTestRedis } from '@nself-tv/test-redis';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anyFamilyPolicy } from './access-policy.js';
import { loadGatewayConfig } from './config.js';
import { PLAYBACK_ROUTER_OPTIONS, playbackRoutes } from './playback.js';
import { createPlaybackGrants } from './playback-grant.js';
import { fromSessions, sessionRoutes } from './session-routes.js';
import { AUTH_SECRET, PLAYBACK_SECRET } from './test-helpers.js';

const redis = useTestRedis();

// Each of the gateway's plugins on a bare Fastify, with only what it is given: the caller comes
// from a plain `X-Test-Caller: user/family` header instead of a JWT, the store is a folder.
describe('the gateway plugins, each alone', () => {
  const connection = createRequestConnection(loadRedisConfig(redis.env), { commandTimeoutMs: 2000 });
  const sessions = createSessionStore({ connection, maxDeviceStreams: 1 });
  const app = Fastify({ routerOptions: PLAYBACK_ROUTER_OPTIONS });
  let base = '';
  let root = '';
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'gw-plugins-'));
    await mkdir(join(root, 'media', 'library', 'film-1'), { recursive: true });
    await writeFile(join(root, 'media', 'library', 'film-1', 'seg0.ts'), 'segment bytes');
    const config = loadGatewayConfig({
      AUTH_JWT_SECRET: AUTH_SECRET,
      PLAYBACK_JWT_SECRET: PLAYBACK_SECRET,
      MEDIA_ROOT: root,
    });
    const grants = await createPlaybackGrants(config);
    await app.register(httpErrors, { fromDomain: fromSessions });
    await app.register(jsonBodies);
    await app.register(sessionRoutes, {
      sessions,
      authenticate: async (header) => {
        const [userId, familyId] = (header ?? '').replace(/^Test /, '').split('/');
        if (!userId || !familyId) throw new HttpError('unauthorized');
        return { userId, familyId, role: 'user' };
      },
      mayPlay: anyFamilyPolicy,
      grants,
      admitRateLimitPerMinute: 100,
      heartbeatIntervalSeconds: 60,
    });
    await app.register(playbackRoutes, {
      storage: createFileStorage({ root }),
      layout: hlsLayout(),
      grants,
      session: (id) => sessions.get(id),
      metrics: createTvMetrics({ redis: connection }),
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
    connection.disconnect();
    await rm(root, { recursive: true, force: true });
  });

  const call = async (method: string, path: string, caller?: string, body?: unknown) => {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(caller ? { authorization: `Test ${caller}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      status: r.status,
      body: r.headers.get('content-type')?.includes('json') ? await r.json() : await r.text(),
    };
  };

  it('the session routes admit, limit and end sessions, and their playback URL plays through the playback routes', async () => {
    expect((await call('POST', '/api/v1/admit', undefined, { mediaId: 'film-1', deviceId: 'tv' })).status).toBe(401);
    const admit = await call('POST', '/api/v1/admit', 'ann/fam-a', { mediaId: 'film-1', deviceId: 'tv' });
    expect(admit.status).toBe(200);
    const { sessionId, mediaUrl } = (admit.body as { data: { sessionId: string; mediaUrl: string } }).data;
    const second = await call('POST', '/api/v1/admit', 'ann/fam-a', { mediaId: 'film-1', deviceId: 'tv' });
    expect(second).toMatchObject({ status: 429, body: { error: 'device_limit' } });
    const segment = new URL('seg0.ts', mediaUrl.replace(/^https?:\/\/[^/]+/, base));
    expect(await fetch(segment).then((r) => r.text())).toBe('segment bytes');
    expect((await call('DELETE', `/api/v1/session/${sessionId}`, 'ann/fam-a')).status).toBe(200);
    // The session has ended: its URL plays no more (once the 2 s liveness memory has passed).
    await new Promise((r) => setTimeout(r, 2100));
    expect((await fetch(segment)).status).toBe(403);
  });
});
