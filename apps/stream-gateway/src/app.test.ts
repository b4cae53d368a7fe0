import { createKeyspace, namespaceTtl, SAFE_ID_PATTERN } from '@nself-tv/redis-keys';
import { errorDocsProblems } from '@nself-tv/service';
import { SESSION_DEFAULTS } from '@nself-tv/sessions';
import { startRedisServer, useTestRedis } from '@nself-tv/test-redis';
import { jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadGatewayConfig } from './config.js';
import { openApiDocument } from './openapi.js';
import { AUTH_SECRET, gatewayKit, PLAYBACK_SECRET, token } from './test-helpers.js';

const redis = useTestRedis();
const ns = redis.namespace;
const start = gatewayKit(redis);
const keyspace = createKeyspace({ namespace: ns, cluster: redis.cluster });

describe('admission and limits', () => {
  it('admits with a signed playback token and stores the session under the spec keys', async () => {
    const gw = await start();
    const t = await token('alice', 'fam-a');
    const res = await gw.call('POST', '/api/v1/admit', { token: t, body: { mediaId: 'movie-1', deviceId: 'tv-1' } });
    expect(res.status).toBe(200);
    const { sessionId, token: playback, expiresAt, heartbeatIntervalSeconds } = res.body.data;
    expect(heartbeatIntervalSeconds).toBe(60);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(290_000);
    const { payload, protectedHeader } = await jwtVerify(playback, new TextEncoder().encode(PLAYBACK_SECRET), {
      issuer: 'stream_gateway',
    });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload).toMatchObject({ sub: 'alice', mediaId: 'movie-1', deviceId: 'tv-1', sessionId, familyId: 'fam-a' });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(4 * 3600);
    expect(await redis.client.ttl(keyspace.session(sessionId))).toBeGreaterThan(295);
    expect(await redis.client.smembers(keyspace.familyStreams('fam-a'))).toEqual([sessionId]);
    expect(res.headers.get('x-request-id')).toMatch(/[0-9a-f-]{36}/);
  });

  it('refuses the third stream on one device (device_limit) and the eleventh in a family (concurrency_limit)', async () => {
    const gw = await start();
    const t = await token('bob', 'fam-b');
    const admit = (deviceId: string) =>
      gw.call('POST', '/api/v1/admit', { token: t, body: { mediaId: 'm', deviceId } });
    expect((await admit('phone')).status).toBe(200);
    expect((await admit('phone')).status).toBe(200);
    const third = await admit('phone');
    expect(third.status).toBe(429);
    expect(third.body).toMatchObject({ error: 'device_limit' });
    expect(third.body.activeSessions).toHaveLength(2);
    for (let i = 0; i < 8; i++) expect((await admit(`dev-${i}`)).status).toBe(200);
    const eleventh = await admit('dev-extra');
    expect(eleventh.status).toBe(429);
    expect(eleventh.body.error).toBe('concurrency_limit');
    expect(eleventh.body.activeSessions).toHaveLength(10);
  });

  it('a retried admit with the same clientRequestId returns the same session', async () => {
    const gw = await start();
    const t = await token('carol', 'fam-c');
    const body = { mediaId: 'm', deviceId: 'tv', clientRequestId: 'req-42' };
    const a = await gw.call('POST', '/api/v1/admit', { token: t, body });
    const b = await gw.call('POST', '/api/v1/admit', { token: t, body });
    expect(b.body.data.sessionId).toBe(a.body.data.sessionId);
    expect(await redis.client.scard(keyspace.familyStreams('fam-c'))).toBe(1);
  });

  it('limits admissions per user', async () => {
    const gw = await start({ ADMIT_RATE_LIMIT_PER_MINUTE: '3' });
    const t = await token('rapid', 'fam-r');
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      statuses.push(
        (await gw.call('POST', '/api/v1/admit', { token: t, body: { mediaId: 'm', deviceId: `d${i}` } })).status,
      );
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});

describe('authentication and ownership', () => {
  it('answers 401 to missing, forged, expired and wrong-audience tokens', async () => {
    const gw = await start({ AUTH_JWT_AUDIENCE: 'nself-tv', AUTH_JWT_ISSUER: 'nself-auth' });
    const body = { mediaId: 'm', deviceId: 'd' };
    const good = await token('dave', 'fam-d', { audience: 'nself-tv', issuer: 'nself-auth' });
    expect((await gw.call('POST', '/api/v1/admit', { token: good, body })).status).toBe(200);
    const bad = [
      undefined,
      await token('dave', 'fam-d', { secret: 'x'.repeat(48), audience: 'nself-tv', issuer: 'nself-auth' }),
      await token('dave', 'fam-d', { expiresIn: '-5m', audience: 'nself-tv', issuer: 'nself-auth' }),
      await token('dave', 'fam-d', { audience: 'someone-else', issuer: 'nself-auth' }),
      await token('dave', 'fam-d', { audience: 'nself-tv', issuer: 'evil' }),
      'not.a.jwt',
    ];
    for (const t of bad) {
      const res = await gw.call('POST', '/api/v1/admit', { ...(t ? { token: t } : {}), body });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('unauthorized');
    }
    for (const [method, path] of [
      ['POST', '/api/v1/heartbeat/x'],
      ['DELETE', '/api/v1/session/x'],
      ['GET', '/api/v1/sessions/fam-d'],
    ] as const) {
      expect((await gw.call(method, path)).status).toBe(401);
    }
  });

  it('refuses tokens that never expire or are not valid yet, within the configured clock skew', async () => {
    const gw = await start({ AUTH_CLOCK_SKEW_SECONDS: '30' });
    const now = Math.floor(Date.now() / 1000);
    let device = 0;
    const admit = async (options: Parameters<typeof token>[2]) => {
      const body = { mediaId: 'm', deviceId: `skew-${device++}` };
      return (await gw.call('POST', '/api/v1/admit', { token: await token('skewed', 'fam-skew', options), body }))
        .status;
    };
    // No exp: such a token would be valid forever.
    expect(await admit({ expiresIn: null })).toBe(401);
    // Issued a day in the future, or not valid before tomorrow.
    expect(await admit({ issuedAt: now + 86_400 })).toBe(401);
    expect(await admit({ issuedAt: now + 60 })).toBe(401);
    expect(await admit({ notBefore: now + 86_400 })).toBe(401);
    expect(await admit({ expiresIn: '-45s' })).toBe(401);
    // Clocks a little apart are fine.
    expect(await admit({ issuedAt: now + 10, notBefore: now + 10 })).toBe(200);
    expect(await admit({ expiresIn: '-10s' })).toBe(200);
    expect(await admit({ issuedAt: now - 3600, expiresIn: '1h' })).toBe(200);
  });

  it('only the owner may heartbeat or end; other families see neither the session nor its list', async () => {
    const gw = await start();
    const owner = await token('erin', 'fam-e');
    const sibling = await token('frank', 'fam-e');
    const stranger = await token('mallory', 'fam-x');
    const admitted = await gw.call('POST', '/api/v1/admit', { token: owner, body: { mediaId: 'm', deviceId: 'tv-e' } });
    const sid = admitted.body.data.sessionId;
    const beat = (t: string, deviceId = 'tv-e') =>
      gw.call('POST', `/api/v1/heartbeat/${sid}`, { token: t, body: { deviceId } });
    expect((await beat(owner)).body).toMatchObject({ status: 'ok', sessionId: sid });
    const missing = await gw.call('POST', '/api/v1/heartbeat/no-such-session', {
      token: owner,
      body: { deviceId: 'tv-e' },
    });
    for (const res of [await beat(stranger), await beat(sibling), await beat(owner, 'other-device')]) {
      expect(res.status).toBe(404);
      expect(res.body).toEqual(missing.body);
    }
    expect((await gw.call('GET', '/api/v1/sessions/fam-e', { token: stranger })).status).toBe(403);
    expect((await gw.call('DELETE', `/api/v1/session/${sid}`, { token: stranger })).status).toBe(200);
    expect(await redis.client.exists(keyspace.session(sid))).toBe(1);
    const list = await gw.call('GET', '/api/v1/sessions/fam-e', { token: sibling });
    expect(list.body).toMatchObject({ count: 1, familyId: 'fam-e' });
    expect(list.body.data[0]).toMatchObject({ sessionId: sid, userId: 'erin', deviceId: 'tv-e' });
    expect((await gw.call('DELETE', `/api/v1/session/${sid}`, { token: owner })).body).toEqual({
      status: 'ended',
      sessionId: sid,
    });
    expect((await gw.call('DELETE', `/api/v1/session/${sid}`, { token: owner })).status).toBe(200);
    expect(await redis.client.exists(keyspace.session(sid))).toBe(0);
  });

  it('refuses ids in the body that disagree with the token, and restricted roles', async () => {
    const gw = await start();
    const t = await token('gina', 'fam-g');
    const other = await gw.call('POST', '/api/v1/admit', {
      token: t,
      body: { mediaId: 'm', deviceId: 'd', userId: 'someone' },
    });
    expect(other.status).toBe(403);
    expect(other.body.error).toBe('policy_denied');
    const fam = await gw.call('POST', '/api/v1/admit', {
      token: t,
      body: { mediaId: 'm', deviceId: 'd', familyId: 'fam-z' },
    });
    expect(fam.status).toBe(403);
    const restricted = await token('kid', 'fam-g', { role: 'restricted' });
    expect(
      (await gw.call('POST', '/api/v1/admit', { token: restricted, body: { mediaId: 'm', deviceId: 'd' } })).body.error,
    ).toBe('policy_denied');
  });
});

describe('expiry', () => {
  it('heartbeat after expiry is 404 session_not_found; a new admit then succeeds', async () => {
    const gw = await start({ SESSION_TTL_SECONDS: '1', MAX_DEVICE_STREAMS: '1' });
    const t = await token('hank', 'fam-h');
    const first = await gw.call('POST', '/api/v1/admit', { token: t, body: { mediaId: 'm', deviceId: 'tv-h' } });
    expect(
      (await gw.call('POST', '/api/v1/admit', { token: t, body: { mediaId: 'm', deviceId: 'tv-h' } })).status,
    ).toBe(429);
    await new Promise((r) => setTimeout(r, 1300));
    const late = await gw.call('POST', `/api/v1/heartbeat/${first.body.data.sessionId}`, {
      token: t,
      headers: { 'x-device-id': 'tv-h' },
    });
    expect(late.status).toBe(404);
    expect(late.body.error).toBe('session_not_found');
    expect(
      (await gw.call('POST', '/api/v1/admit', { token: t, body: { mediaId: 'm', deviceId: 'tv-h' } })).status,
    ).toBe(200);
  });
});

describe('bad input', () => {
  it('answers 400 naming the problem, and keeps serving', async () => {
    const gw = await start({ BODY_LIMIT_BYTES: '1024' });
    const t = await token('ivan', 'fam-i');
    const cases: [string, { raw?: string; body?: unknown; headers?: Record<string, string> }, string | undefined][] = [
      ['malformed JSON', { raw: '{"mediaId":' }, undefined],
      ['wrong type', { body: { mediaId: 42, deviceId: 'd' } }, 'mediaId'],
      ['missing field', { body: { mediaId: 'm' } }, 'deviceId'],
      ['unknown field', { body: { mediaId: 'm', deviceId: 'd', admin: true } }, 'admin'],
      ['array body', { body: [1, 2] }, undefined],
      ['unicode id', { body: { mediaId: 'película', deviceId: 'd' } }, 'mediaId'],
      ['key-breaking id', { body: { mediaId: 'm', deviceId: 'tv:*' } }, 'deviceId'],
      ['braces id', { body: { mediaId: 'm', deviceId: '{x}' } }, 'deviceId'],
      ['empty id', { body: { mediaId: '', deviceId: 'd' } }, 'mediaId'],
    ];
    for (const [label, options, field] of cases) {
      const res = await gw.call('POST', '/api/v1/admit', { token: t, ...options });
      expect(res.status, label).toBe(400);
      expect(res.body.error, label).toBe('bad_request');
      expect(typeof res.body.message, label).toBe('string');
      if (field) expect(res.body.field, label).toBe(field);
    }
    // Fastify's own errors keep their status, as in the worker apps: 413 and 415.
    for (const [label, options, status, error] of [
      [
        'oversized body',
        { raw: JSON.stringify({ mediaId: 'm', deviceId: 'd', pad: 'x'.repeat(4096) }) },
        413,
        'payload_too_large',
      ],
      [
        'not JSON content type',
        { raw: 'mediaId=m', headers: { 'content-type': 'text/plain' } },
        415,
        'unsupported_media_type',
      ],
    ] as const) {
      const res = await gw.call('POST', '/api/v1/admit', { token: t, ...options });
      expect({ status: res.status, error: res.body.error }, label).toEqual({ status, error });
    }
    // A URL Fastify cannot decode is answered before any route runs, in the same body.
    const badUrl = await fetch(`${gw.address}/api/v1/heartbeat/%zz`, { method: 'POST' });
    expect({ status: badUrl.status, body: await badUrl.json() }).toEqual({
      status: 400,
      body: { error: 'bad_request', message: 'the URL is malformed' },
    });
    const badPath = await gw.call('POST', `/api/v1/heartbeat/${encodeURIComponent('a:b*')}`, {
      token: t,
      body: { deviceId: 'd' },
    });
    expect(badPath.status).toBe(400);
    expect(badPath.body.field).toBe('sessionId');
    expect((await gw.call('GET', '/health')).status).toBe(200);
    expect((await gw.call('POST', '/api/v1/admit', { token: t, body: { mediaId: 'm', deviceId: 'ok' } })).status).toBe(
      200,
    );
  });
});

describe('operations', () => {
  it('serves health, readiness, metrics and the OpenAPI document, and never logs tokens', async () => {
    const gw = await start();
    const t = await token('judy', 'fam-j');
    const admitted = await gw.call('POST', '/api/v1/admit', { token: t, body: { mediaId: 'm', deviceId: 'd' } });
    expect((await gw.call('GET', '/health')).body).toEqual({ status: 'ok' });
    expect((await gw.call('GET', '/ready')).status).toBe(200);
    const metrics = await gw.call('GET', '/metrics');
    expect(metrics.body.text).toContain('nself_tv_stream_admissions_total{result="admitted"} 1');
    const doc = await gw.call('GET', '/openapi.json');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/admit',
        '/api/v1/heartbeat/{sessionId}',
        '/api/v1/session/{sessionId}',
        '/api/v1/sessions/{familyId}',
        '/play/{mediaId}/{signature}/{path}',
        '/api/stream/{mediaId}/manifest.m3u8',
        '/api/v1/playback/authorize',
      ]),
    );
    // Generated from the zod schema the route parses with, so the two cannot drift.
    expect(doc.body.components.schemas.AdmitRequest.properties.mediaId.pattern).toBe(SAFE_ID_PATTERN.source);
    // Path ids and the heartbeat body come from the same schemas as the routes, not a hand-copied regex.
    for (const [path, method] of [
      ['/api/v1/heartbeat/{sessionId}', 'post'],
      ['/api/v1/session/{sessionId}', 'delete'],
      ['/api/v1/sessions/{familyId}', 'get'],
      ['/play/{mediaId}/{signature}/{path}', 'get'],
    ] as const) {
      expect(doc.body.paths[path][method].parameters[0].schema.pattern, path).toBe(SAFE_ID_PATTERN.source);
      expect(doc.body.paths[path][method].parameters[0].schema.maxLength, path).toBe(128);
    }
    expect(doc.body.components.schemas.HeartbeatRequest.properties.deviceId.pattern).toBe(SAFE_ID_PATTERN.source);
    expect(Object.keys(doc.body.components.schemas.AdmitRequest.properties)).toContain('profileContentRatingLimit');
    expect((await gw.call('GET', '/nope')).body.error).toBe('not_found');
    const text = gw.logs.join('\n');
    expect(text).not.toContain(t);
    expect(text).not.toContain(admitted.body.data.token);
    expect(text).not.toContain(AUTH_SECRET);
    const requestLines = gw.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request completed');
    expect(requestLines.length).toBeGreaterThan(0);
    for (const line of requestLines) expect(line.reqId).toMatch(/[0-9a-f-]{36}/);
  });

  it('logs a heartbeat that succeeds at debug only, and one that fails like any request', async () => {
    const gw = await start();
    const t = await token('lou', 'fam-lou');
    const admitted = await gw.call('POST', '/api/v1/admit', { token: t, body: { mediaId: 'm', deviceId: 'lou-tv' } });
    expect(admitted.status, JSON.stringify(admitted.body)).toBe(200);
    const sid = admitted.body.data.sessionId;
    expect((await gw.call('POST', `/api/v1/heartbeat/${sid}`, { token: t })).status).toBe(200);
    expect((await gw.call('POST', '/api/v1/heartbeat/no-such-session', { token: t })).status).toBe(404);
    const lines = gw.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request completed');
    const heartbeats = lines.filter((l) => l.url === '/api/v1/heartbeat/:sessionId');
    expect(heartbeats.map((l) => l.status)).toEqual([404]);
    expect(heartbeats[0]?.reqId).toMatch(/^[0-9a-f-]{36}$/); // the request's logger, built when it first writes
    expect(lines.some((l) => l.url === '/api/v1/admit' && l.status === 200)).toBe(true);
    // Counted all the same.
    expect((await gw.call('GET', '/metrics')).body.text).toContain('nself_tv_stream_heartbeats_total{result="ok"} 1');
  });

  it('documents exactly the error codes of the registry it answers, each at its status', () => {
    expect(errorDocsProblems(openApiDocument)).toEqual([]);
  });

  it('reports not ready (503) when Redis is down', async () => {
    const server = await startRedisServer();
    const gw = await start({ REDIS_URL: server.url });
    expect((await gw.call('GET', '/ready')).status).toBe(200);
    await server.stop();
    const ready = await gw.call('GET', '/ready');
    expect(ready.status).toBe(503);
    const t = await token('kim', 'fam-k');
    const admit = await gw.call('POST', '/api/v1/admit', { token: t, body: { mediaId: 'm', deviceId: 'd' } });
    expect(admit.status).toBe(503);
    expect(admit.body.message).not.toMatch(/ECONN|ioredis|stack/i);
    await server.close();
  });

  it('refuses to start with one error naming every bad variable', () => {
    const badVariables = (env: Record<string, string>) => {
      try {
        loadGatewayConfig({ ...redis.env, ...env });
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).problems.map((p) => p.variable);
      }
      return [];
    };
    const secrets = { PORT: 'eighty', AUTH_JWT_SECRET: 'short', PLAYBACK_JWT_SECRET: 'also-short' };
    expect(
      badVariables({
        ...secrets,
        CORS_ORIGINS: 'https://tv.example.com/app',
        STORAGE: 'ftp',
        SESSIONS_REDIS_PORT: '0',
      }),
    ).toEqual(['PORT', 'CORS_ORIGINS', 'STORAGE', 'SESSIONS_REDIS_PORT']);
    // The secrets are checked with the rest of the gateway's variables once those parse.
    expect(badVariables(secrets)).toEqual(['PORT', 'AUTH_JWT_SECRET', 'PLAYBACK_JWT_SECRET']);
  });

  it('refuses to start without strong secrets', () => {
    const base = { ...redis.env, AUTH_JWT_SECRET: AUTH_SECRET, PLAYBACK_JWT_SECRET: PLAYBACK_SECRET };
    expect(() => loadGatewayConfig({ ...base, PLAYBACK_JWT_SECRET: undefined })).toThrow(/PLAYBACK_JWT_SECRET/);
    expect(() => loadGatewayConfig({ ...base, PLAYBACK_JWT_SECRET: 'short' })).toThrow(/at least 32 bytes/);
    expect(() => loadGatewayConfig({ ...base, AUTH_JWT_SECRET: 'short' })).toThrow(/AUTH_JWT_SECRET/);
    expect(() => loadGatewayConfig({ ...base, AUTH_JWT_SECRET: undefined })).toThrow(
      /AUTH_JWT_SECRET or AUTH_JWKS_URL/,
    );
    expect(() => loadGatewayConfig({ ...base, MAX_FAMILY_STREAMS: 'ten' })).toThrow(/MAX_FAMILY_STREAMS/);
    expect(loadGatewayConfig(base).port).toBe(5003);
  });

  it('takes the session TTL and limits from the one place the key layout and the store use', () => {
    const base = { ...redis.env, AUTH_JWT_SECRET: AUTH_SECRET, PLAYBACK_JWT_SECRET: PLAYBACK_SECRET };
    const { sessions } = loadGatewayConfig(base);
    expect(sessions).toMatchObject(SESSION_DEFAULTS);
    expect(SESSION_DEFAULTS.ttlSeconds).toBe(namespaceTtl('session'));
    expect(loadGatewayConfig({ ...base, SESSION_TTL_SECONDS: '90' }).sessions.ttlSeconds).toBe(90);
  });
});
