import { createRequestConnection, keyspaceFor, loadRedisConfig, type RedisClient } from '@nself-tv/redis-keys';
import { type RedisClusterHandle, startRedisCluster } from '@nself-tv/test-redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionStore, type SessionStore } from './session-store.js';

// The store on a real 3-master Redis Cluster: every key an admission touches is in its family's slot.
let cluster: RedisClusterHandle;
let connection: RedisClient;
let store: SessionStore;
beforeAll(async () => {
  cluster = await startRedisCluster();
  connection = createRequestConnection(loadRedisConfig(cluster.env), { commandTimeoutMs: 5000 });
  store = createSessionStore({ connection, maxFamilyStreams: 3, maxDeviceStreams: 2 });
}, 30_000);
afterAll(async () => {
  connection.disconnect();
  await cluster.close();
});

const slot = async (key: string) => Number(await connection.call('CLUSTER', 'KEYSLOT', key));

describe('sessions on a Redis Cluster', () => {
  it('keeps a session, its family set and its device set in one slot, and finds it from the id alone', async () => {
    const keys = keyspaceFor(connection);
    const admitted = await store.admit({ userId: 'u1', familyId: 'fam-a', deviceId: 'dev-1', mediaId: 'm1' });
    if (!admitted.ok) throw new Error('not admitted');
    const { sessionId } = admitted.session;
    expect(sessionId).toMatch(/^[0-9a-f]{8}\.[0-9a-f-]{36}$/);
    const sessionKey = keys.session(sessionId);
    const familyKey = keys.familyStreams('fam-a');
    const deviceKey = keys.deviceStreams('dev-1', 'fam-a');
    expect(new Set([await slot(sessionKey), await slot(familyKey), await slot(deviceKey)]).size).toBe(1);
    expect(await connection.exists(sessionKey, familyKey, deviceKey)).toBe(3);

    const beat = await store.heartbeat(sessionId, { userId: 'u1', deviceId: 'dev-1' });
    expect(beat.ok).toBe(true);
    expect(await store.get(sessionId)).toMatchObject({ familyId: 'fam-a', deviceId: 'dev-1' });
    expect((await store.listFamily('fam-a')).map((s) => s.sessionId)).toEqual([sessionId]);
    expect((await store.listDevice('dev-1', 'fam-a')).map((s) => s.sessionId)).toEqual([sessionId]);
    await expect(store.listDevice('dev-1')).rejects.toMatchObject({ code: 'INVALID_SESSION_INPUT' });

    expect(await store.end(sessionId, { userId: 'u1' })).toMatchObject({ ok: true, ended: { sessionId } });
    expect(await connection.exists(sessionKey, familyKey, deviceKey)).toBe(0);
  });

  it('spreads families over the masters', async () => {
    const keys = keyspaceFor(connection);
    const slots = await Promise.all(Array.from({ length: 30 }, (_, i) => slot(keys.familyStreams(`family-${i}`))));
    const owners = new Set(slots.map((s) => Math.floor(s / (16384 / 3))));
    expect(owners.size).toBe(3);
  });

  it('an id without a family tag names no session: not found, not an error', async () => {
    expect(await store.heartbeat('plain-id', { userId: 'u1' })).toEqual({ ok: false, reason: 'session_not_found' });
    expect(await store.end('plain-id', { userId: 'u1' })).toEqual({ ok: true, ended: undefined });
    expect(await store.get('plain-id')).toBeUndefined();
  });

  it('limits hold per family, and a family at its limit does not block another', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await store.admit({ userId: `u${i}`, familyId: 'fam-b', deviceId: `d${i}`, mediaId: 'm' })).ok).toBe(
        true,
      );
    }
    expect(await store.admit({ userId: 'u9', familyId: 'fam-b', deviceId: 'd9', mediaId: 'm' })).toMatchObject({
      ok: false,
      reason: 'family_limit',
    });
    expect((await store.admit({ userId: 'u9', familyId: 'fam-c', deviceId: 'd9', mediaId: 'm' })).ok).toBe(true);
  });
});
