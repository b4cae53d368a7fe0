import { createKeyspace, createRequestConnection, loadRedisConfig } from '@nself-tv/redis-keys';
import { startRedisServer, useTestRedis } from '@nself-tv/test-redis';
import { describe, expect, it } from 'vitest';
import { SessionError } from './errors.js';
import { createSessionStore, type SessionEvent } from './session-store.js';
import { request, sessionKit } from './test-helpers.js';

const redis = useTestRedis();
const ns = redis.namespace;
const kit = sessionKit(redis.env, ns);
// The spec's keys on one server; the same keys with their family's hash tag on a cluster.
const keys = createKeyspace({ namespace: ns, cluster: redis.cluster });

describe('admit', () => {
  it('stores the session as JSON with the spec TTL and adds it to both sets, which expire too', async () => {
    const events: SessionEvent[] = [];
    const store = kit.store({ onEvent: (e) => events.push(e) });
    const result = await store.admit(request(1, { familyId: 'fam-keys' }));
    if (!result.ok) throw new Error('not admitted');
    const { session } = result;
    const key = keys.session(session.sessionId);
    if (!redis.cluster) expect(key).toBe(keys.session(session.sessionId));
    expect(await redis.client.type(key)).toBe('string');
    expect(JSON.parse((await redis.client.get(key)) ?? '')).toEqual(session);
    expect(session).toMatchObject({ userId: 'user-1', mediaId: 'media-1', deviceId: 'device-1', familyId: 'fam-keys' });
    expect(session.startedAt).toBe(session.lastHeartbeat);
    expect(Math.abs(session.startedAt - Date.now())).toBeLessThan(5000);
    expect(await redis.client.ttl(key)).toBeGreaterThan(295);
    const sets = [keys.familyStreams('fam-keys'), keys.deviceStreams('device-1', 'fam-keys')];
    if (!redis.cluster) expect(sets).toEqual([`${ns}:family_streams:fam-keys`, `${ns}:device_streams:device-1`]);
    for (const set of sets) {
      expect(await redis.client.type(set)).toBe('set');
      expect(await redis.client.smembers(set)).toEqual([session.sessionId]);
      expect(await redis.client.ttl(set)).toBeGreaterThan(295);
    }
    expect(events).toEqual([{ type: 'admit', result: 'admitted', evicted: false }]);
  });

  it('refuses the third stream on one device with the two active sessions', async () => {
    const store = kit.store();
    const d = { familyId: 'fam-dev', deviceId: 'tv-1' };
    const a = await store.admit(request('a', d));
    const b = await store.admit(request('b', d));
    const c = await store.admit(request('c', d));
    expect([a.ok, b.ok]).toEqual([true, true]);
    expect(c).toMatchObject({ ok: false, reason: 'device_limit' });
    if (c.ok || !a.ok || !b.ok) throw new Error('unexpected');
    expect(c.active.map((s) => s.sessionId).sort()).toEqual([a.session.sessionId, b.session.sessionId].sort());
  });

  it('refuses the eleventh stream of a family', async () => {
    const store = kit.store();
    const results = [];
    for (let i = 0; i < 11; i++) {
      results.push(await store.admit(request(i, { familyId: 'fam-eleven', deviceId: `eleven-${i}` })));
    }
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    const last = results[10];
    expect(last).toMatchObject({ ok: false, reason: 'family_limit' });
    if (last?.ok !== false) throw new Error('unexpected');
    expect(last.active).toHaveLength(10);
    expect(await redis.client.scard(keys.familyStreams('fam-eleven'))).toBe(10);
  });

  it('a retried admission with the same clientRequestId takes no second slot', async () => {
    const store = kit.store();
    const r = { familyId: 'fam-retry', deviceId: 'dev-retry', clientRequestId: 'req-1' };
    const first = await store.admit(request(1, r));
    const again = await store.admit(request(1, r));
    if (!first.ok || !again.ok) throw new Error('unexpected');
    expect(again.replayed).toBe(true);
    expect(again.session.sessionId).toBe(first.session.sessionId);
    expect(await redis.client.scard(keys.familyStreams('fam-retry'))).toBe(1);
    // Another user cannot replay someone else's request id.
    const other = await store.admit(request(2, r));
    expect(other.ok && other.replayed).toBe(false);
  });

  it('optionally ends the session with the oldest heartbeat on a full family', async () => {
    const store = kit.store({ maxFamilyStreams: 2, evictOldestOnFamilyLimit: true });
    const f = { familyId: 'fam-evict' };
    const a = await store.admit(request('a', f));
    const b = await store.admit(request('b', f));
    if (!a.ok || !b.ok) throw new Error('unexpected');
    await new Promise((r) => setTimeout(r, 5));
    await store.heartbeat(a.session.sessionId, { userId: 'user-a', deviceId: 'device-a' });
    const c = await store.admit(request('c', f));
    if (!c.ok) throw new Error('not admitted');
    expect(c.evicted?.sessionId).toBe(b.session.sessionId);
    expect(await store.get(b.session.sessionId)).toBeUndefined();
    expect(await redis.client.sismember(keys.deviceStreams('device-b', 'fam-evict'), b.session.sessionId)).toBe(0);
    expect((await store.listFamily('fam-evict')).map((s) => s.userId).sort()).toEqual(['user-a', 'user-c']);
  });

  it('rejects ids that would break a key, naming the field', async () => {
    const store = kit.store();
    for (const [field, value] of [
      ['familyId', 'fam:*'],
      ['deviceId', ''],
      ['userId', 'a b'],
      ['clientRequestId', 'x{y}'],
    ] as const) {
      const error = await store.admit(request(1, { [field]: value })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SessionError);
      expect((error as SessionError).code).toBe('INVALID_SESSION_INPUT');
      expect((error as SessionError).field).toBe(field);
    }
  });

  it('rejects a bad configuration', () => {
    expect(() => kit.store({ maxDeviceStreams: 0 })).toThrow(/maxDeviceStreams/);
  });
});

describe('heartbeat and end', () => {
  it('refreshes TTL and lastHeartbeat for the owner only', async () => {
    const store = kit.store();
    const a = await store.admit(request('hb', { familyId: 'fam-hb' }));
    if (!a.ok) throw new Error('unexpected');
    const key = keys.session(a.session.sessionId);
    await redis.client.expire(key, 100);
    await new Promise((r) => setTimeout(r, 10));
    const hb = await store.heartbeat(a.session.sessionId, { userId: 'user-hb', deviceId: 'device-hb' });
    if (!hb.ok) throw new Error('refused');
    expect(hb.lastHeartbeat).toBeGreaterThan(a.session.lastHeartbeat);
    expect(hb.expiresAt).toBe(hb.lastHeartbeat + 300_000);
    // What the result says is what Redis holds.
    expect((await store.get(a.session.sessionId))?.lastHeartbeat).toBe(hb.lastHeartbeat);
    expect(await redis.client.ttl(key)).toBeGreaterThan(295);
    expect(await store.heartbeat(a.session.sessionId, { userId: 'user-x', deviceId: 'device-hb' })).toEqual({
      ok: false,
      reason: 'not_owner',
    });
    expect(await store.heartbeat(a.session.sessionId, { userId: 'user-hb', deviceId: 'device-x' })).toEqual({
      ok: false,
      reason: 'not_owner',
    });
    // Without a device id, the user's own session on any device (what the web client sends).
    expect((await store.heartbeat(a.session.sessionId, { userId: 'user-hb' })).ok).toBe(true);
    expect(await store.heartbeat(a.session.sessionId, { userId: 'user-x' })).toEqual({
      ok: false,
      reason: 'not_owner',
    });
  });

  it('refreshes a session another service wrote in its own JSON style, and is not fooled by its values', async () => {
    const store = kit.store();
    const a = await store.admit(request('py', { familyId: 'fam-py' }));
    if (!a.ok) throw new Error('unexpected');
    const key = keys.session(a.session.sessionId);
    // As Python's json.dumps writes it: spaces after separators, its own key order.
    const { sessionId, userId, mediaId, deviceId, familyId, startedAt } = a.session;
    const spaced = JSON.stringify({
      familyId,
      sessionId,
      deviceId,
      userId,
      mediaId,
      startedAt,
      lastHeartbeat: startedAt,
    })
      .replaceAll('":', '": ')
      .replaceAll(',"', ', "');
    await redis.client.set(key, spaced, 'EX', 100);
    const hb = await store.heartbeat(sessionId, { userId, deviceId });
    if (!hb.ok) throw new Error('refused');
    expect(hb.lastHeartbeat).toBeGreaterThanOrEqual(startedAt);
    expect(await store.get(sessionId)).toEqual({
      sessionId,
      userId,
      mediaId,
      deviceId,
      familyId,
      startedAt,
      lastHeartbeat: hb.lastHeartbeat,
    });
    expect(await redis.client.ttl(key)).toBeGreaterThan(295);
    // A value that spells another owner (escaped inside a string) must not be taken for the owner.
    const forged = JSON.stringify({
      mediaId: 'x","userId":"intruder","deviceId":"evil',
      userId,
      deviceId,
      familyId,
      sessionId,
      startedAt,
      lastHeartbeat: startedAt,
    });
    await redis.client.set(key, forged, 'EX', 100);
    expect(await store.heartbeat(sessionId, { userId: 'intruder' })).toEqual({ ok: false, reason: 'not_owner' });
    expect(await store.heartbeat(sessionId, { userId, deviceId: 'evil' })).toEqual({ ok: false, reason: 'not_owner' });
    const owner = await store.heartbeat(sessionId, { userId, deviceId });
    if (!owner.ok) throw new Error('refused');
    expect((await store.get(sessionId))?.mediaId).toBe('x","userId":"intruder","deviceId":"evil');
  });

  it('ends idempotently, for the owner only, and frees both slots', async () => {
    const store = kit.store();
    const a = await store.admit(request('end', { familyId: 'fam-end' }));
    if (!a.ok) throw new Error('unexpected');
    const sid = a.session.sessionId;
    expect(await store.end(sid, { userId: 'intruder' })).toEqual({ ok: false, reason: 'not_owner' });
    expect(await store.end(sid, { userId: 'user-end', deviceId: 'other-device' })).toEqual({
      ok: false,
      reason: 'not_owner',
    });
    expect(await store.end(sid, { userId: 'user-end' })).toMatchObject({ ok: true, ended: { sessionId: sid } });
    expect(await store.end(sid, { userId: 'user-end' })).toEqual({ ok: true, ended: undefined });
    expect(await redis.client.exists(keys.session(sid))).toBe(0);
    expect(await redis.client.sismember(keys.familyStreams('fam-end'), sid)).toBe(0);
    expect(await redis.client.sismember(keys.deviceStreams('device-end', 'fam-end'), sid)).toBe(0);
  });
});

describe('expiry without a sweeper', () => {
  it('frees slots when sessions expire; an expired session is not revived by heartbeat', async () => {
    const store = kit.store({ ttlSeconds: 1 });
    const d = { familyId: 'fam-exp', deviceId: 'tv-exp' };
    const a = await store.admit(request('a', d));
    await store.admit(request('b', d));
    expect(await store.admit(request('c', d))).toMatchObject({ ok: false, reason: 'device_limit' });
    await new Promise((r) => setTimeout(r, 1300));
    if (!a.ok) throw new Error('unexpected');
    expect(await store.heartbeat(a.session.sessionId, { userId: 'user-a', deviceId: 'tv-exp' })).toEqual({
      ok: false,
      reason: 'session_not_found',
    });
    expect(await store.get(a.session.sessionId)).toBeUndefined();
    const c = await store.admit(request('c', d));
    expect(c.ok).toBe(true);
    // The admission pruned the dead ids: only the new session is left.
    if (!c.ok) throw new Error('unexpected');
    expect(await redis.client.smembers(keys.deviceStreams('tv-exp', 'fam-exp'))).toEqual([c.session.sessionId]);
  });

  it('lists and counts live sessions only, pruning dead ids', async () => {
    const store = kit.store();
    const a = await store.admit(request('l1', { familyId: 'fam-list', deviceId: 'dev-list' }));
    const b = await store.admit(request('l2', { familyId: 'fam-list', deviceId: 'dev-list' }));
    if (!a.ok || !b.ok) throw new Error('unexpected');
    await redis.client.del(keys.session(a.session.sessionId));
    expect((await store.listFamily('fam-list')).map((s) => s.sessionId)).toEqual([b.session.sessionId]);
    expect((await store.listDevice('dev-list', 'fam-list')).map((s) => s.sessionId)).toEqual([b.session.sessionId]);
    expect(await redis.client.smembers(keys.familyStreams('fam-list'))).toEqual([b.session.sessionId]);
    expect(await store.listFamily('fam-nobody')).toEqual([]);
  });
});

describe('a Redis that does not answer', () => {
  it('is a SessionError with its own code, REDIS_UNAVAILABLE, for every operation', async () => {
    const server = await startRedisServer();
    const connection = createRequestConnection(loadRedisConfig({ REDIS_URL: server.url }), { commandTimeoutMs: 500 });
    connection.on('error', () => undefined);
    const store = createSessionStore({ connection });
    const caller = { userId: 'u' };
    await store.admit({ userId: 'u', familyId: 'f', deviceId: 'd', mediaId: 'm' });
    await server.stop();
    try {
      for (const call of [
        () => store.admit({ userId: 'u', familyId: 'f', deviceId: 'd2', mediaId: 'm' }),
        () => store.heartbeat('s-1', caller),
        () => store.end('s-1', caller),
        () => store.get('s-1'),
        () => store.listFamily('f'),
      ]) {
        const error = await call().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SessionError);
        expect((error as SessionError).code).toBe('REDIS_UNAVAILABLE');
      }
    } finally {
      connection.disconnect();
      await server.close();
    }
  });
});
