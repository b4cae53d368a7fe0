import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createKeyspace, createRequestConnection, keyspaceFor, loadRedisConfig } from '@nself-tv/redis-keys';
import { type RedisClusterHandle, startRedisCluster, useTestRedis } from '@nself-tv/test-redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, sessionKit } from './test-helpers.js';

const redis = useTestRedis();
const ns = redis.namespace;
const kit = sessionKit(redis.env, ns);
const keys = createKeyspace({ namespace: ns, cluster: redis.cluster });
const fixture = fileURLToPath(new URL('../test/fixtures/admit-process.mjs', import.meta.url));

type Tally = { admitted: number; family_limit: number; device_limit: number };

function burst(
  target: 'family' | 'device',
  processes: number,
  perProcess: number,
  env: Record<string, string> = redis.env,
): Promise<Tally[]> {
  const startAt = Date.now() + 1500;
  return Promise.all(
    Array.from(
      { length: processes },
      (_, p) =>
        new Promise<Tally>((resolve, reject) => {
          const child = spawn(process.execPath, [fixture], {
            env: {
              ...process.env,
              ...env,
              NAMESPACE: ns,
              COUNT: String(perProcess),
              TARGET: target,
              TAG: `${target}${p}`,
              START_AT: String(startAt),
            },
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          let out = '';
          child.stdout.on('data', (b: Buffer) => {
            out += b.toString();
          });
          child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code}`))));
        }),
    ),
  );
}

const sum = (tallies: Tally[], field: keyof Tally) => tallies.reduce((n, t) => n + t[field], 0);

describe('limits are exact under concurrency', () => {
  it('500 concurrent admissions for one family from 4 processes: exactly 10 admitted', async () => {
    const tallies = await burst('family', 4, 125);
    expect(sum(tallies, 'admitted')).toBe(10);
    expect(sum(tallies, 'family_limit')).toBe(490);
    expect(await redis.client.scard(keys.familyStreams('shared-family'))).toBe(10);
  }, 60_000);

  it('500 concurrent admissions for one device from 4 processes: exactly 2 admitted', async () => {
    // On one server from 500 families; on a cluster a device's streams count within its family.
    const family = redis.cluster ? 'device-family' : undefined;
    const tallies = await burst('device', 4, 125, family ? { ...redis.env, FAMILY: family } : redis.env);
    expect(sum(tallies, 'admitted')).toBe(2);
    expect(sum(tallies, 'device_limit')).toBe(498);
    expect(await redis.client.scard(keys.deviceStreams('shared-device', family))).toBe(2);
  }, 60_000);
});

describe('limits are exact under concurrency on a Redis Cluster (3 masters)', () => {
  let cluster: RedisClusterHandle;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 30_000);
  afterAll(() => cluster.close());
  const onCluster = () => ({ REDIS_URL: '', ...cluster.env });
  const setSize = async (key: (keys: ReturnType<typeof keyspaceFor>) => string) => {
    const connection = createRequestConnection(loadRedisConfig(onCluster()), { commandTimeoutMs: 5000 });
    try {
      return await connection.scard(key(keyspaceFor(connection, { namespace: ns })));
    } finally {
      connection.disconnect();
    }
  };

  it('500 concurrent admissions for one family from 4 processes: exactly 10 admitted', async () => {
    const tallies = await burst('family', 4, 125, onCluster());
    expect(sum(tallies, 'admitted')).toBe(10);
    expect(sum(tallies, 'family_limit')).toBe(490);
    expect(await setSize((k) => k.familyStreams('shared-family'))).toBe(10);
  }, 60_000);

  it('500 concurrent admissions for one device from 4 processes: exactly 2 admitted', async () => {
    // A device's streams are counted within its family on a cluster (they share the family's slot).
    const tallies = await burst('device', 4, 125, { ...onCluster(), FAMILY: 'device-family' });
    expect(sum(tallies, 'admitted')).toBe(2);
    expect(sum(tallies, 'device_limit')).toBe(498);
    expect(await setSize((k) => k.deviceStreams('shared-device', 'device-family'))).toBe(2);
  }, 60_000);
});

describe('no SET member outlives its session', () => {
  it('holds after a random sequence of admit, heartbeat, end and expiry', async () => {
    const store = kit.store({ ttlSeconds: 1, maxFamilyStreams: 4, maxDeviceStreams: 2 });
    let seed = 20261126;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      // The low bits of this generator cycle quickly; use the high ones.
      return Math.floor(seed / 65536) % n;
    };
    const families = ['rf0', 'rf1'];
    const devices = ['rd0', 'rd1', 'rd2'];
    const live: { sessionId: string; userId: string; deviceId: string }[] = [];
    // When each session we know of should be gone; ended ones at once.
    const expiresAt = new Map<string, number>();
    // Members whose session was already gone before the admission began. A session
    // that expires in the instant between the admission and this check is not a leak.
    const leaked = async (setKey: string, admissionStart: number) => {
      const members = await redis.client.smembers(setKey);
      const exists = await Promise.all(members.map((m) => redis.client.exists(keys.session(m))));
      return members.filter((m, i) => exists[i] === 0 && (expiresAt.get(m) ?? 0) < admissionStart - 100);
    };
    let admissions = 0;
    let sleeps = 0;
    for (let step = 0; step < 150; step++) {
      const op = random(10);
      if (op < 5) {
        const familyId = families[random(families.length)] as string;
        const deviceId = devices[random(devices.length)] as string;
        const started = Date.now();
        const result = await store.admit(request(`r${random(5)}`, { familyId, deviceId }));
        admissions += 1;
        if (result.ok) {
          live.push(result.session);
          expiresAt.set(result.session.sessionId, Date.now() + 1000);
        }
        // Right after an admission, its family's and device's sets hold no dead ids.
        expect(await leaked(keys.familyStreams(familyId), started)).toEqual([]);
        expect(await leaked(keys.deviceStreams(deviceId, familyId), started)).toEqual([]);
      } else if (op < 7 && live.length > 0) {
        const s = live[random(live.length)];
        if (s && (await store.heartbeat(s.sessionId, { userId: s.userId, deviceId: s.deviceId })).ok) {
          expiresAt.set(s.sessionId, Date.now() + 1000);
        }
      } else if (op < 9 && live.length > 0) {
        const [s] = live.splice(random(live.length), 1);
        if (s) {
          await store.end(s.sessionId, { userId: s.userId });
          expiresAt.set(s.sessionId, 0);
        }
      } else {
        // Let some sessions expire.
        sleeps += 1;
        await new Promise((r) => setTimeout(r, 400 + random(800)));
      }
    }
    expect(admissions).toBeGreaterThan(50);
    expect(sleeps).toBeGreaterThan(5);
  }, 60_000);
});
