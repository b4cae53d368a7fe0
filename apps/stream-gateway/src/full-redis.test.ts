// A full Redis (maxmemory reached under noeviction, as production runs it): what viewers see.
// Writes are refused by Redis itself, so admissions and heartbeats cannot be recorded; the
// gateway must say so with a 503 the client retries, not a 500, and reads and ends keep working.
import { randomUUID } from 'node:crypto';
import { startRedisServer } from '@nself-tv/test-redis';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { gatewayKit, token } from './test-helpers.js';

// Its own server (a full one): the kit's Redis is only a default that REDIS_URL replaces.
const start = gatewayKit({ env: { REDIS_URL: '' }, namespace: 'full' });

describe('a full Redis', () => {
  it('admit and heartbeat answer 503 service_unavailable; reads and ends still work; nothing is half written', async () => {
    const server = await startRedisServer({ args: ['--maxmemory-policy', 'noeviction'] });
    const admin = new Redis(server.url);
    try {
      const gw = await start({ REDIS_URL: server.url });
      const jwt = await token('viewer-full', 'fam-full');
      const admit = () =>
        gw.call('POST', '/api/v1/admit', { token: jwt, body: { mediaId: 'film', deviceId: randomUUID() } });
      const first = await admit();
      expect(first.status).toBe(200);
      const { sessionId } = first.body.data;

      // Full: more data than maxmemory allows, as after a backlog grew (noeviction keeps it all).
      const blob = 'x'.repeat(64 * 1024);
      for (let i = 0; i < 32; i++) await admin.set(`filler:${i}`, blob);
      const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
      await admin.config('SET', 'maxmemory', String(Math.floor(used / 2)));
      expect(await admin.set('probe', 'x').catch((e: Error) => e.message)).toMatch(/^OOM/);

      const refused = [await admit(), await gw.call('POST', `/api/v1/heartbeat/${sessionId}`, { token: jwt })];
      for (const res of refused) {
        expect(res).toMatchObject({ status: 503, body: { error: 'service_unavailable' } });
        expect(res.body.message).toMatch(/full/);
        expect(res.body.message).not.toMatch(/OOM command|ERR|maxmemory/);
      }
      // Reads still answer: the family sees its running stream.
      const list = await gw.call('GET', '/api/v1/sessions/fam-full', { token: jwt });
      expect(list).toMatchObject({ status: 200, body: { count: 1 } });
      expect((await gw.call('GET', '/ready')).status).toBe(200);
      // Ending a stream still works: Redis allows deletes at maxmemory (they free memory).
      expect((await gw.call('DELETE', `/api/v1/session/${sessionId}`, { token: jwt })).status).toBe(200);
      expect((await gw.call('GET', '/api/v1/sessions/fam-full', { token: jwt })).body.count).toBe(0);

      // Room again: everything works as before, nothing was half written.
      await admin.config('SET', 'maxmemory', '0');
      expect((await admit()).status).toBe(200);
    } finally {
      admin.disconnect();
      await server.close();
    }
  }, 30_000);
});
