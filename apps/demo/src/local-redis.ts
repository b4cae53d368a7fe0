import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describeRedisConfig, loadRedisConfig, type RedisConfig } from '@nself-tv/redis-keys';
import { startRedisServer } from '@nself-tv/test-redis';
import { Redis } from 'ioredis';

/** The Redis the demo runs against. */
export interface DemoRedis {
  /** Environment for the apps: the caller's Redis variables, or `REDIS_URL` of the local server. */
  env: Record<string, string>;
  /** Where it is, as the apps will read it from `env`. */
  config: RedisConfig;
  /** What the demo says about it. */
  description: string;
  /** The local server's pid, when the demo started one. */
  pid: number | undefined;
  /** Stops the local server (a no-op for the caller's Redis). */
  stop(): Promise<void>;
}

const REDIS_VARS = /^(REDIS_|SESSIONS_REDIS_|CACHE_REDIS_)/;

async function answers(config: RedisConfig): Promise<boolean> {
  const client = new Redis({
    host: config.host,
    port: config.port,
    username: config.username,
    password: config.password,
    db: config.db,
    ...(config.tls ? { tls: {} } : {}),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1500,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** The command that installs a missing tool, for the message. */
export const INSTALL_HINT = {
  'redis-server': 'Debian/Ubuntu: sudo apt-get install -y redis-server   macOS: brew install redis',
  ffmpeg: 'Debian/Ubuntu: sudo apt-get install -y ffmpeg   macOS: brew install ffmpeg',
} as const;

/** True when `tool -version` (or `--version`) runs. */
export const hasTool = (tool: string) =>
  spawnSync(tool, [tool === 'redis-server' ? '--version' : '-version'], { stdio: 'ignore' }).status === 0;

/**
 * The caller's Redis when `REDIS_URL` or `REDIS_HOST` is set and answers;
 * otherwise a `redis-server` from PATH on a free port, with AOF persistence in
 * `dataDir`, stopped again by `stop()`.
 */
export async function resolveRedis(env: NodeJS.ProcessEnv, dataDir: string): Promise<DemoRedis> {
  const given = Boolean(env.REDIS_URL || env.REDIS_HOST);
  if (given) {
    const config = loadRedisConfig(env);
    const where = describeRedisConfig(config);
    if (!(await answers(config))) throw new Error(`REDIS_URL / REDIS_HOST is set, but ${where} does not answer PING`);
    const passed = Object.fromEntries(
      Object.entries(env).filter((e): e is [string, string] => REDIS_VARS.test(e[0]) && e[1] !== undefined),
    );
    return { env: passed, config, description: `your Redis (${where})`, pid: undefined, stop: async () => undefined };
  }
  if (!hasTool('redis-server')) {
    throw new Error(
      `redis-server is not installed and no REDIS_URL is set. Install it: ${INSTALL_HINT['redis-server']}`,
    );
  }
  const server = await startRedisServer({ dataDir, detached: true });
  const local = { REDIS_URL: server.url };
  return {
    env: local,
    config: loadRedisConfig(local),
    description: `a local redis-server on port ${server.port}, AOF persistence in ${join(dataDir, 'appendonlydir')}`,
    pid: server.pid,
    stop: () => server.stop(),
  };
}
