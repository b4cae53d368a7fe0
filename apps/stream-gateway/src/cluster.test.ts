import { randomUUID } from 'node:crypto';
import {
  freePort,
  type RedisClusterHandle,
  startRedisCluster,
  startRedisServer,
  useTestRedis,
} from '@nself-tv/test-redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayKit, token } from './test-helpers.js';

// The gateway's session routes against a real 3-master Redis Cluster (REDIS_CLUSTER_NODES).
const redis = useTestRedis();
const start = gatewayKit(redis);
let cluster: RedisClusterHandle;
// On a cluster run the run's own cluster serves; otherwise this file starts one.
beforeAll(async () => {
  if (!redis.cluster) cluster = await startRedisCluster();
}, 30_000);
afterAll(() => cluster?.close());
const clusterEnv = () => (redis.cluster ? redis.env : cluster.env);

describe('stream-gateway on a Redis Cluster', () => {
  it('with wrong REDIS_CLUSTER_NODES answers 503 with the reason, at once, instead of hanging', async () => {
    const nobody = await freePort();
    const standalone = await startRedisServer();
    try {
      for (const nodes of [`127.0.0.1:${nobody}`, `127.0.0.1:${new URL(standalone.url).port}`]) {
        const gw = await start({ REDIS_URL: '', REDIS_CLUSTER_NODES: nodes });
        const started = Date.now();
        const ready = await gw.call('GET', '/ready');
        expect(ready.status, nodes).toBe(503);
        expect(ready.body.message, nodes).toMatch(/^Redis does not answer \(.+\)$/);
        const jwt = await token('viewer-w', 'fam-wrong');
        const admit = await gw.call('POST', '/api/v1/admit', {
          token: jwt,
          body: { mediaId: 'film-1', deviceId: randomUUID() },
        });
        expect(admit, nodes).toMatchObject({ status: 503, body: { error: 'service_unavailable' } });
        // Bounded: the probe's own limit, not forever.
        expect(Date.now() - started).toBeLessThan(5000);
      }
    } finally {
      await standalone.close();
    }
  }, 30_000);

  it('admits up to the family limit, heartbeats and ends sessions, as on one Redis', async () => {
    const gw = await start({ REDIS_URL: '', ...clusterEnv(), MAX_FAMILY_STREAMS: '2' });
    const jwt = await token('viewer-c', 'fam-cluster');
    const admit = (deviceId: string) =>
      gw.call('POST', '/api/v1/admit', {
        token: jwt,
        body: { userId: 'viewer-c', mediaId: 'film-1', deviceId, familyId: 'fam-cluster' },
      });
    const first = await admit(randomUUID());
    expect(first.status).toBe(200);
    const { sessionId } = first.body.data;
    expect((await admit(randomUUID())).status).toBe(200);
    const third = await admit(randomUUID());
    expect(third.status).toBe(429);
    expect(third.body.error).toBe('concurrency_limit');

    expect((await gw.call('POST', `/api/v1/heartbeat/${sessionId}`, { token: jwt })).status).toBe(200);
    expect((await gw.call('DELETE', `/api/v1/session/${sessionId}`, { token: jwt })).status).toBeLessThan(300);
    expect((await gw.call('POST', `/api/v1/heartbeat/${sessionId}`, { token: jwt })).status).toBe(404);
    // The freed slot is usable again.
    expect((await admit(randomUUID())).status).toBe(200);
  });
});
