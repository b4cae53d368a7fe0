import { type RedisServerHandle, startRedisServer, useTestRedis } from '@nself-tv/test-redis';
import { Cluster, type Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRedisConfig } from './config.js';
import {
  awaitReplicas,
  createRequestConnection,
  createWorkerConnection,
  type RedisClient,
  reconnectDelay,
  waitForReady,
} from './connections.js';
import { NotReplicatedError } from './errors.js';
import { getEvictionInfo, queueEvictionWarning } from './eviction.js';

const shared = useTestRedis();
const clients: RedisClient[] = [];
const track = (client: RedisClient) => {
  clients.push(client);
  client.on('error', () => {});
  return client;
};

afterAll(() => {
  for (const c of clients) c.disconnect();
});

/** The connection `client` sends commands on `key` through (itself, or the key's master on a cluster). */
async function nodeServing(client: RedisClient | Redis | Cluster, key: string): Promise<Redis> {
  if (!(client instanceof Cluster)) return client;
  const slot = Number(await client.call('CLUSTER', 'KEYSLOT', key));
  const owner = client.slots[slot]?.[0];
  const node = client.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner);
  if (!node) throw new Error(`no connection to the master of slot ${slot}`);
  return node;
}

const waitFor = async (check: () => Promise<boolean> | boolean, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('reconnectDelay', () => {
  it('grows by 200 ms per attempt up to 5 s', () => {
    expect([1, 2, 10, 25, 26, 1000].map(reconnectDelay)).toEqual([200, 400, 2000, 5000, 5000, 5000]);
  });
});

describe('each environment form connects', () => {
  let secured: RedisServerHandle;

  beforeAll(async () => {
    secured = await startRedisServer({ args: ['--requirepass', 'default-secret'] });
    const admin = track(
      createWorkerConnection(loadRedisConfig({ REDIS_URL: `redis://:default-secret@127.0.0.1:${secured.port}` })),
    );
    await admin.call('ACL', 'SETUSER', 'app', 'on', '>app-secret', '~*', '+@all');
  });
  afterAll(() => secured.close());

  const port = () => new URL(shared.url).port;
  const key = () => `${shared.namespace}:form`;

  // A cluster has no databases and is reached by its node list only; a single server by every form.
  const forms: [string, () => Record<string, string | undefined>][] = shared.cluster
    ? [['REDIS_CLUSTER_NODES', () => shared.env]]
    : [
        ['REDIS_URL', () => ({ REDIS_URL: shared.url })],
        ['REDIS_HOST + REDIS_PORT', () => ({ REDIS_HOST: '127.0.0.1', REDIS_PORT: port() })],
        ['REDIS_URL with a database', () => ({ REDIS_URL: `${shared.url}/4` })],
        ['REDIS_HOST + REDIS_DB', () => ({ REDIS_HOST: '127.0.0.1', REDIS_PORT: port(), REDIS_DB: '4' })],
      ];
  it.each(forms)('%s', async (_label, env) => {
    const config = loadRedisConfig(env());
    const client = track(createRequestConnection(config));
    await waitForReady(client);
    await client.set(key(), 'x', 'EX', 30);
    expect(await client.get(key())).toBe('x');
    // The value must be in the database the variables name.
    const direct = track(createWorkerConnection(config));
    expect(await direct.call('CLIENT', 'INFO')).toContain(`db=${config.db}`);
    await client.del(key());
  });

  it.each([
    [
      'password only in REDIS_URL',
      'default',
      () => ({ REDIS_URL: `redis://:default-secret@127.0.0.1:${secured.port}` }),
    ],
    ['ACL user in REDIS_URL', 'app', () => ({ REDIS_URL: `redis://app:app-secret@127.0.0.1:${secured.port}` })],
    [
      'ACL user in REDIS_USERNAME + REDIS_PASSWORD',
      'app',
      () => ({
        REDIS_HOST: '127.0.0.1',
        REDIS_PORT: String(secured.port),
        REDIS_USERNAME: 'app',
        REDIS_PASSWORD: 'app-secret',
      }),
    ],
  ])('%s', async (_label, user, env) => {
    const client = track(createWorkerConnection(loadRedisConfig(env())));
    expect(await client.ping()).toBe('PONG');
    expect(await client.call('ACL', 'WHOAMI')).toBe(user);
  });
});

describe('request-path connection fails fast', () => {
  it('rejects at once when nothing listens', async () => {
    const server = await startRedisServer();
    const config = loadRedisConfig({ REDIS_URL: server.url });
    await server.close();
    const client = track(createRequestConnection(config));
    const started = performance.now();
    await expect(client.get('k')).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('rejects within its timeout when the server goes away', async () => {
    const server = await startRedisServer();
    try {
      const client = track(
        createRequestConnection(loadRedisConfig({ REDIS_URL: server.url }), { commandTimeoutMs: 300 }),
      );
      await waitForReady(client);
      expect(await client.ping()).toBe('PONG');
      await server.stop();
      const started = performance.now();
      await expect(client.get('k')).rejects.toThrow();
      const elapsed = performance.now() - started;
      // Loose bound: timeout plus scheduling slack on a loaded CI machine.
      expect(elapsed).toBeLessThan(300 + 1200);
    } finally {
      await server.close();
    }
  });

  it('rejects after commandTimeoutMs when the server is alive but stuck', async () => {
    const server = await startRedisServer({ args: ['--enable-debug-command', 'yes'] });
    try {
      const config = loadRedisConfig({ REDIS_URL: server.url });
      const client = track(createRequestConnection(config, { commandTimeoutMs: 250 }));
      await waitForReady(client);
      const blocker = track(createWorkerConnection(config));
      const sleeping = blocker.call('DEBUG', 'SLEEP', '2');
      await new Promise((r) => setTimeout(r, 50));
      const started = performance.now();
      await expect(client.get('k')).rejects.toThrow(/timed out/i);
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(200);
      expect(elapsed).toBeLessThan(250 + 1200);
      await sleeping;
    } finally {
      await server.close();
    }
  });
});

describe('worker connection survives outages', () => {
  it('reconnects after CLIENT KILL and keeps its queued commands', async () => {
    const config = loadRedisConfig(shared.env);
    const worker = track(createWorkerConnection(config, { connectionName: `${shared.namespace}-worker` }));
    const key = `${shared.namespace}:after-kill`;
    await worker.set(key, '0');
    // The connection that serves the key (on a cluster, the one to the key's master).
    const served = await nodeServing(worker, key);
    const id = await served.client('ID');
    await (await nodeServing(shared.client, key)).call('CLIENT', 'KILL', 'ID', String(id));
    expect(await worker.set(key, '1')).toBe('OK');
    const after = await nodeServing(worker, key);
    expect(await after.client('ID')).not.toBe(id);
    expect(await after.client('GETNAME')).toBe(`${shared.namespace}-worker`);
  });

  it('reconnects after a server restart; commands issued while down complete afterwards', async () => {
    const server = await startRedisServer();
    try {
      const worker = track(createWorkerConnection(loadRedisConfig({ REDIS_URL: server.url })));
      expect(await worker.ping()).toBe('PONG');
      await server.stop();
      await waitFor(() => worker.status !== 'ready');
      const pending = worker.set('during-outage', '1');
      await new Promise((r) => setTimeout(r, 300));
      await server.start();
      expect(await pending).toBe('OK');
      expect(await worker.get('during-outage')).toBe('1');
    } finally {
      await server.close();
    }
  });
});

describe('eviction policy check', () => {
  it('is silent for noeviction and warns for an evicting server', async () => {
    const evicting = await startRedisServer({ args: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'] });
    try {
      const safe = track(createWorkerConnection(loadRedisConfig(shared.env)));
      const lru = track(createWorkerConnection(loadRedisConfig({ REDIS_URL: evicting.url })));
      expect(await getEvictionInfo(safe)).toMatchObject({ policy: 'noeviction', safeForQueues: true });
      expect(await queueEvictionWarning(safe)).toBeUndefined();
      expect(await getEvictionInfo(lru)).toEqual({
        policy: 'allkeys-lru',
        maxmemoryBytes: 64 * 1024 * 1024,
        safeForQueues: false,
      });
      expect(await queueEvictionWarning(lru)).toMatch(/allkeys-lru.*noeviction/);
    } finally {
      await evicting.close();
    }
  });
});

describe('request-path connection at start-up', () => {
  it('lets commands sent before the first connection wait for it', async () => {
    const client = track(createRequestConnection(loadRedisConfig(shared.env)));
    expect(client.status).not.toBe('ready');
    expect(await client.ping()).toBe('PONG');
  });

  it('does not queue once connected: a command during an outage rejects at once', async () => {
    const server = await startRedisServer();
    try {
      const client = track(
        createRequestConnection(loadRedisConfig({ REDIS_URL: server.url }), { commandTimeoutMs: 5000 }),
      );
      expect(await client.ping()).toBe('PONG');
      await server.stop();
      await waitFor(() => client.status !== 'ready');
      const started = performance.now();
      await expect(client.get('k')).rejects.toThrow(/enableOfflineQueue/);
      expect(performance.now() - started).toBeLessThan(100);
    } finally {
      await server.close();
    }
  });
});

describe('awaitReplicas (REDIS_WAIT_REPLICAS)', () => {
  let master: RedisServerHandle;
  let replica: RedisServerHandle;
  beforeAll(async () => {
    master = await startRedisServer();
    replica = await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
  });
  afterAll(async () => {
    await replica.close();
    await master.close();
  });

  it('acknowledges a write once the replica has it, and refuses with NOT_REPLICATED when none answers', async () => {
    const config = loadRedisConfig({ REDIS_URL: master.url, REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '300' });
    expect(config.waitForReplicas).toEqual({ replicas: 1, timeoutMs: 300 });
    const client = track(createRequestConnection(config, { commandTimeoutMs: 2000 }));
    const onReplica = track(createRequestConnection(loadRedisConfig({ REDIS_URL: replica.url })));
    await waitForReady(client);
    // The replica may still be syncing: the first acknowledged write proves the link.
    for (let i = 0; ; i++) {
      await client.set('replicated', String(i));
      const ok = await awaitReplicas(client, config.waitForReplicas).then(
        () => true,
        () => false,
      );
      if (ok) break;
      if (i > 50) throw new Error('the replica never acknowledged');
    }
    expect(await onReplica.get('replicated')).not.toBeNull();
    await awaitReplicas(client, undefined); // no wait asked: nothing to do

    await replica.stop();
    await client.set('alone', '1');
    const started = Date.now();
    const error = await awaitReplicas(client, config.waitForReplicas).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotReplicatedError);
    expect(error).toMatchObject({ code: 'NOT_REPLICATED', acknowledged: 0 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    // The write itself is on the master: only its safety is not confirmed.
    expect(await client.get('alone')).toBe('1');
  });

  it('rejects a bad REDIS_WAIT_REPLICAS and the combination with a cluster', () => {
    expect(() => loadRedisConfig({ REDIS_WAIT_REPLICAS: 'two' })).toThrow(/^REDIS_WAIT_REPLICAS: /);
    expect(() => loadRedisConfig({ REDIS_WAIT_REPLICAS: '17' })).toThrow(/expected 0 to 16/);
    expect(() => loadRedisConfig({ REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '0' })).toThrow(
      /^REDIS_WAIT_TIMEOUT_MS/,
    );
    expect(() => loadRedisConfig({ REDIS_WAIT_REPLICAS: '1', REDIS_CLUSTER_NODES: 'a:1' })).toThrow(
      /not supported with REDIS_CLUSTER_NODES/,
    );
    expect(loadRedisConfig({ REDIS_WAIT_REPLICAS: '0' }).waitForReplicas).toBeUndefined();
  });
});

describe('a Redis Cluster seed that does not resolve', () => {
  it("is said on the client's error event, with the name, while the client keeps trying", async () => {
    const config = loadRedisConfig({ REDIS_CLUSTER_NODES: 'no-such-seed.invalid:7000' });
    const client = createRequestConnection(config, { commandTimeoutMs: 500 });
    try {
      const said = await new Promise<Error>((resolve) => client.once('error', resolve));
      expect(said.message).toMatch(
        /Redis Cluster seed no-such-seed\.invalid does not resolve \((ENOTFOUND|EAI_AGAIN)\)/,
      );
    } finally {
      client.disconnect();
    }
  });
});
