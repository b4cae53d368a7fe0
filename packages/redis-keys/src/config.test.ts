import { ConfigError } from '@nself-tv/service/settings';
import { describe, expect, it } from 'vitest';
import { describeRedisConfig, loadRedisConfig, redisSettings } from './config.js';
import { RedisConfigError } from './errors.js';

describe('loadRedisConfig', () => {
  it('defaults to localhost:6379 db 0 without TLS', () => {
    expect(loadRedisConfig({})).toEqual({
      host: 'localhost',
      port: 6379,
      username: undefined,
      password: undefined,
      db: 0,
      tls: false,
      source: 'REDIS_HOST/REDIS_PORT',
    });
  });

  it('reads the host form', () => {
    const config = loadRedisConfig({
      REDIS_HOST: 'redis',
      REDIS_PORT: '6380',
      REDIS_USERNAME: 'app',
      REDIS_PASSWORD: 'p@ss',
      REDIS_DB: '3',
      REDIS_TLS: 'true',
    });
    expect(config).toMatchObject({ host: 'redis', port: 6380, username: 'app', password: 'p@ss', db: 3, tls: true });
  });

  it('lets REDIS_URL win and decodes credentials', () => {
    const config = loadRedisConfig({
      REDIS_URL: 'rediss://app:p%40ss@cache.example:6390/2',
      REDIS_HOST: 'ignored',
      REDIS_PORT: 'not-a-port',
    });
    expect(config).toMatchObject({
      host: 'cache.example',
      port: 6390,
      username: 'app',
      password: 'p@ss',
      db: 2,
      tls: true,
      source: 'REDIS_URL',
    });
    expect(describeRedisConfig(config)).toBe('rediss://app@cache.example:6390/2 (from REDIS_URL)');
  });

  it('reads a password-only URL and an IPv6 host', () => {
    expect(loadRedisConfig({ REDIS_URL: 'redis://:secret@[::1]' })).toMatchObject({
      host: '::1',
      port: 6379,
      username: undefined,
      password: 'secret',
      db: 0,
    });
  });

  it.each([
    [{ REDIS_URL: 'http://localhost:6379' }, 'REDIS_URL', 'redis:// or rediss://'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL', 'expected a URL'],
    [{ REDIS_URL: 'redis://localhost/abc' }, 'REDIS_URL', 'database'],
    [{ REDIS_PORT: 'abc' }, 'REDIS_PORT', 'port'],
    [{ REDIS_PORT: '70000' }, 'REDIS_PORT', 'between 1 and 65535'],
    [{ REDIS_DB: '-1' }, 'REDIS_DB', '0 or more'],
    [{ REDIS_TLS: 'maybe' }, 'REDIS_TLS', 'true or false'],
    [{ CACHE_REDIS_PORT: 'x' }, 'CACHE_REDIS_PORT', 'port'],
  ])('fails on %o naming %s', (env, variable, expected) => {
    const role = variable.startsWith('CACHE_') ? 'cache' : 'queues';
    try {
      loadRedisConfig(env, role);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(RedisConfigError);
      const e = error as RedisConfigError;
      expect(e.code).toBe('INVALID_REDIS_CONFIG');
      expect(e.variable).toBe(variable);
      expect(e.message).toContain(variable);
      expect(e.message).toContain(expected);
    }
  });

  it('uses CACHE_REDIS_* for the cache role when set, REDIS_* otherwise', () => {
    const env = { REDIS_URL: 'redis://queues:6379', CACHE_REDIS_URL: 'redis://cache:6379/1' };
    expect(loadRedisConfig(env, 'cache')).toMatchObject({ host: 'cache', db: 1, source: 'CACHE_REDIS_URL' });
    expect(loadRedisConfig(env, 'queues')).toMatchObject({ host: 'queues' });
    expect(loadRedisConfig(env, 'sessions')).toMatchObject({ host: 'queues' });
    expect(
      loadRedisConfig({ REDIS_URL: 'redis://queues:6379', SESSIONS_REDIS_HOST: 'sess' }, 'sessions'),
    ).toMatchObject({
      host: 'sess',
      port: 6379,
    });
  });
});

describe('cluster and Sentinel settings', () => {
  it('reads REDIS_CLUSTER_NODES as seed nodes, IPv6 included, with the password for every node', () => {
    const config = loadRedisConfig({ REDIS_CLUSTER_NODES: 'r1:7000, r2:7001,[::1]:7002', REDIS_PASSWORD: 'pw' });
    expect(config.cluster?.nodes).toEqual([
      { host: 'r1', port: 7000 },
      { host: 'r2', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(config).toMatchObject({ host: 'r1', port: 7000, password: 'pw', source: 'REDIS_CLUSTER_NODES' });
    expect(describeRedisConfig(config)).toBe('redis cluster r1:7000,r2:7001,::1:7002 (from REDIS_CLUSTER_NODES)');
    expect(config.sentinel).toBeUndefined();
  });

  it('reads REDIS_SENTINELS with REDIS_SENTINEL_NAME, and the sentinels’ own credentials', () => {
    const config = loadRedisConfig({
      REDIS_SENTINELS: 's1:26379,s2:26379',
      REDIS_SENTINEL_NAME: 'mymaster',
      REDIS_SENTINEL_PASSWORD: 'spw',
      REDIS_PASSWORD: 'pw',
      REDIS_DB: '2',
    });
    expect(config.sentinel).toEqual({
      nodes: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'mymaster',
      username: undefined,
      password: 'spw',
    });
    expect(config).toMatchObject({ password: 'pw', db: 2 });
    expect(describeRedisConfig(config)).not.toContain('pw');
  });

  it('names the variable at fault for every bad combination', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ REDIS_CLUSTER_NODES: 'r1' }, /^REDIS_CLUSTER_NODES: expected host:port, got 'r1'/],
      [{ REDIS_CLUSTER_NODES: 'r1:99999' }, /^REDIS_CLUSTER_NODES: expected a port between/],
      [{ REDIS_CLUSTER_NODES: ',' }, /^REDIS_CLUSTER_NODES: expected 1 to 64 nodes/],
      [{ REDIS_CLUSTER_NODES: 'r1:1', REDIS_DB: '3' }, /^REDIS_DB: must be 0 in cluster mode/],
      [{ REDIS_CLUSTER_NODES: 'r1:1', REDIS_URL: 'redis://x' }, /^REDIS_URL: names one server/],
      [{ REDIS_CLUSTER_NODES: 'r1:1', REDIS_SENTINELS: 's:1' }, /^REDIS_SENTINELS: cannot be combined/],
      [{ REDIS_SENTINELS: 's:1' }, /^REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS/],
      [{ REDIS_SENTINELS: 'a b:1', REDIS_SENTINEL_NAME: 'm' }, /^REDIS_SENTINELS: expected host:port/],
    ];
    for (const [env, message] of bad) {
      expect(() => loadRedisConfig(env), JSON.stringify(env)).toThrow(RedisConfigError);
      expect(() => loadRedisConfig(env), JSON.stringify(env)).toThrow(message);
    }
  });

  it('gives a role its own cluster: CACHE_REDIS_CLUSTER_NODES for the cache only', () => {
    const env = { REDIS_HOST: 'queues', CACHE_REDIS_CLUSTER_NODES: 'c1:7000,c2:7000,c3:7000' };
    expect(loadRedisConfig(env, 'cache').cluster?.nodes).toHaveLength(3);
    expect(loadRedisConfig(env).cluster).toBeUndefined();
  });
});

describe('redisSettings', () => {
  it('names every bad variable of the role at once, as a ConfigError, then what only holds together', () => {
    const problems = (env: Record<string, string>, role?: 'cache') => {
      try {
        redisSettings(role).read(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems.map((p) => p.variable);
      }
      return [];
    };
    expect(problems({ REDIS_PORT: 'x', REDIS_DB: '-1', REDIS_TLS: 'maybe', REDIS_WAIT_REPLICAS: '99' })).toEqual([
      'REDIS_PORT',
      'REDIS_DB',
      'REDIS_TLS',
      'REDIS_WAIT_REPLICAS',
    ]);
    // A role with its own variables is read from them alone.
    expect(problems({ CACHE_REDIS_PORT: '0', REDIS_PORT: 'x' }, 'cache')).toEqual(['CACHE_REDIS_PORT']);
    // Each value good, together not: the one rule that is broken.
    expect(problems({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_SENTINELS: 'b:26379' })).toEqual(['REDIS_SENTINELS']);
    expect(redisSettings().read({ REDIS_URL: 'redis://cache:6380/2' })).toMatchObject({
      host: 'cache',
      port: 6380,
      db: 2,
    });
  });
});
