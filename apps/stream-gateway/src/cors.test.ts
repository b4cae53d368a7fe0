// CORS as a browser sees it: preflights and answers for a web app on another origin, only
// for the origins configured, only on the session API and playback, never with credentials.
import { randomUUID } from 'node:crypto';
import { useTestRedis } from '@nself-tv/test-redis';
import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from './config.js';
import { AUTH_SECRET, gatewayKit, PLAYBACK_SECRET, token } from './test-helpers.js';

const redis = useTestRedis();
const start = gatewayKit(redis);
const APP = 'https://tv.example.com';

const preflight = (
  address: string,
  path: string,
  origin: string,
  method = 'POST',
  headers = 'authorization,content-type',
) =>
  fetch(`${address}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
  });

describe('CORS', () => {
  it('off by default: no CORS header anywhere, so browsers keep other origins out', async () => {
    const gw = await start();
    const res = await preflight(gw.address, '/api/v1/admit', APP);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const jwt = await token('viewer-cors', 'fam-cors');
    const admit = await fetch(`${gw.address}/api/v1/admit`, {
      method: 'POST',
      headers: { origin: APP, authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mediaId: 'm', deviceId: randomUUID() }),
    });
    expect(admit.status).toBe(200);
    expect(admit.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers the configured origins on /api and /play, refusals included, and nothing else', async () => {
    const gw = await start({ CORS_ORIGINS: `${APP}, http://localhost:3000` });
    const ok = await preflight(gw.address, '/api/v1/admit', APP);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
    expect(ok.headers.get('access-control-allow-credentials')).toBeNull();
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    expect(ok.headers.get('access-control-allow-methods')).toMatch(/DELETE/);
    expect(ok.headers.get('vary')).toMatch(/Origin/i);
    // A player's range request on a segment.
    const range = await preflight(gw.address, '/play/m/sig/r720/seg_000.ts', 'http://localhost:3000', 'GET', 'range');
    expect(range.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');

    const jwt = await token('viewer-cors', 'fam-cors');
    const admit = await fetch(`${gw.address}/api/v1/admit`, {
      method: 'POST',
      headers: { origin: APP, authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mediaId: 'm', deviceId: randomUUID() }),
    });
    expect(admit.headers.get('access-control-allow-origin')).toBe(APP);
    expect(admit.headers.get('access-control-expose-headers')).toMatch(/x-request-id/);
    // A refusal carries it too: the web client must read the 429's body.
    const refused = await fetch(`${gw.address}/play/m/not-a-signature/master.m3u8`, { headers: { origin: APP } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe(APP);

    // Another origin, a look-alike, and null get nothing.
    for (const origin of [
      'https://evil.example.com',
      'https://tv.example.com.evil.net',
      'null',
      'http://tv.example.com',
    ]) {
      const res = await preflight(gw.address, '/api/v1/admit', origin);
      expect(res.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
    // Probes and documents are not for other origins.
    const metrics = await fetch(`${gw.address}/metrics`, { headers: { origin: APP } });
    expect(metrics.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('* allows any origin, still without credentials', async () => {
    const gw = await start({ CORS_ORIGINS: '*' });
    const res = await preflight(gw.address, '/api/v1/heartbeat/s', 'https://anything.example');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('refuses origins that are not origins', () => {
    const env = { AUTH_JWT_SECRET: AUTH_SECRET, PLAYBACK_JWT_SECRET: PLAYBACK_SECRET };
    for (const bad of [
      'tv.example.com',
      'https://tv.example.com/app',
      'ftp://tv.example.com',
      'https://*.example.com',
    ]) {
      expect(() => loadGatewayConfig({ ...env, CORS_ORIGINS: bad }), bad).toThrow(/CORS_ORIGINS/);
    }
    expect(loadGatewayConfig({ ...env, CORS_ORIGINS: 'https://a.example, http://localhost:8080' }).corsOrigins).toEqual(
      ['https://a.example', 'http://localhost:8080'],
    );
  });
});
