import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createProducer } from '@nself-tv/queues';
import { createKeyspace, createRequestConnection, keyspaceFor, loadRedisConfig } from '@nself-tv/redis-keys';
import { createSessionStore } from '@nself-tv/sessions';
import { scanKeys, startRedisCluster, useTestRedis } from '@nself-tv/test-redis';
import { afterAll, describe, expect, it } from 'vitest';
import type { RedisStatus } from './status.js';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const redis = useTestRedis();
const ns = redis.namespace;
const keyspace = createKeyspace({ namespace: ns, cluster: redis.cluster });
const connection = createRequestConnection(loadRedisConfig(redis.env), { commandTimeoutMs: 5000 });
const producer = createProducer({ connection, keyspace });
afterAll(async () => {
  await producer.close();
  connection.disconnect();
});

// One server is named with --url; a cluster by REDIS_CLUSTER_NODES, as an operator would.
const target = redis.cluster ? [] : ['--url', redis.url];
const cliEnv = { env: { ...process.env, ...redis.env } };

const job = (m: string) => ({
  mediaId: m,
  familyId: 'f',
  source: { bucket: 'media', key: `${m}.mkv` },
  output: { bucket: 'media', prefix: `${m}/` },
});

describe('nself-tv-redis', () => {
  it('--json reports exactly what was seeded, reads only our keys and writes nothing', async () => {
    for (const m of ['a', 'b']) await producer.enqueue('video:transcode', job(m));
    await producer.enqueue('image:poster', job('p'), { priority: 1 });
    await producer.enqueue('video:trickplay', job('t'), { delayMs: 600_000 });
    const sessions = createSessionStore({ connection, keyspace });
    await sessions.admit({ userId: 'u1', familyId: 'f1', deviceId: 'd1', mediaId: 'm' });
    await sessions.admit({ userId: 'u2', familyId: 'f1', deviceId: 'd2', mediaId: 'm' });
    await sessions.admit({ userId: 'u3', familyId: 'f2', deviceId: 'd3', mediaId: 'm' });
    await connection.set(keyspace.cacheTrending(), '[]');
    for (const u of ['u1', 'u2', 'u3']) await connection.set(keyspace.cacheRecommendations(u), '[]');
    await connection.set(keyspace.cacheSearch('a'.repeat(64)), '[]');
    await connection.set(keyspace.ingest('i1'), '{}');
    // Another application's keys on the same Redis, some looking like ours without the namespace.
    const foreign = [
      `other-${ns}:session:x`,
      `other-${ns}:cache:recommendations:x`,
      `other-${keyspace.queueKey('video:transcode', 'wait')}`,
    ];
    for (const key of foreign) await connection.set(key, 'x');

    const before = (await scanKeys(redis.client, '*')).length;
    const { stdout } = await run(process.execPath, [cli, '--json', ...target, '--namespace', ns], cliEnv);
    const status = JSON.parse(stdout) as RedisStatus;
    expect((await scanKeys(redis.client, '*')).length).toBe(before);

    const q = Object.fromEntries(status.queues.map((c) => [c.queue, c]));
    expect(q['video:transcode']).toMatchObject({ waiting: 2, active: 0, failed: 0 });
    expect(q['image:poster']).toMatchObject({ prioritized: 1 });
    expect(q['video:trickplay']).toMatchObject({ delayed: 1 });
    expect(status.cache).toEqual({ trending: 1, popular: 0, recent: 0, recommendations: 3, search: 1, total: 5 });
    expect(status.sessions).toEqual({ active: 3, families: 2, devices: 3 });
    expect(status.ingests).toBe(1);
    expect(status.redis.evictionPolicy).toBe('noeviction');
    expect(status.warnings).toEqual([]);
    for (const key of foreign) await connection.del(key);
  });

  it('prints a table for people and explains its figures in --help', async () => {
    const table = await run(process.execPath, [cli, ...target, '--namespace', ns], cliEnv);
    expect(table.stdout).toMatch(/video:transcode\s+2/);
    expect(table.stdout).toContain('policy noeviction');
    const help = await run(process.execPath, [cli, '--help']);
    for (const word of ['waiting', 'prioritized', 'delayed', 'noeviction', 'SCAN', '--watch', '--json']) {
      expect(help.stdout).toContain(word);
    }
  });

  it('fails clearly when Redis cannot be reached', async () => {
    const error = await run(process.execPath, [cli, '--url', 'redis://127.0.0.1:1']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((error as { code: number }).code).toBe(1);
    expect((error as { stderr: string }).stderr).toContain('cannot reach Redis at redis://127.0.0.1:1/0');
  });
});

describe('nself-tv-redis on a Redis Cluster', () => {
  it('counts queues, sessions and cache keys over every master (REDIS_CLUSTER_NODES)', async () => {
    const cluster = await startRedisCluster();
    const clustered = createRequestConnection(loadRedisConfig(cluster.env), { commandTimeoutMs: 5000 });
    try {
      const keys = keyspaceFor(clustered);
      const clusterProducer = createProducer({ connection: clustered });
      await clusterProducer.enqueue('video:transcode', job('c1'));
      await clusterProducer.close();
      const sessions = createSessionStore({ connection: clustered });
      // Families land on different masters.
      for (let i = 0; i < 12; i++) {
        await sessions.admit({ userId: `u${i}`, familyId: `family-${i}`, deviceId: `d${i}`, mediaId: 'm' });
      }
      for (let i = 0; i < 9; i++) await clustered.set(keys.cacheRecommendations(`user-${i}`), '[]');
      const { stdout } = await run(process.execPath, [cli, '--json'], {
        env: { PATH: process.env.PATH, ...cluster.env },
      });
      const status = JSON.parse(stdout) as RedisStatus;
      expect(status.queues.find((q) => q.queue === 'video:transcode')).toMatchObject({ waiting: 1 });
      expect(status.sessions).toEqual({ active: 12, families: 12, devices: 12 });
      expect(status.cache.recommendations).toBe(9);
    } finally {
      clustered.disconnect();
      await cluster.close();
    }
  }, 60_000);
});
