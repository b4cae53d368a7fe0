import { spawn, spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describeRedisConfig, loadRedisConfig, type RedisConfig } from '@nself-tv/redis-keys';
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

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

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
  await mkdir(dataDir, { recursive: true });
  const port = await freePort();
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dataDir,
      '--appendonly',
      'yes',
      '--save',
      '',
      '--maxmemory-policy',
      'noeviction',
    ],
    { stdio: 'ignore', detached: true },
  );
  const local = { REDIS_URL: `redis://127.0.0.1:${port}` };
  const config = loadRedisConfig(local);
  const deadline = Date.now() + 10_000;
  while (!(await answers(config))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const exited = new Promise<void>((resolve) =>
    child.exitCode !== null ? resolve() : child.once('exit', () => resolve()),
  );
  return {
    env: local,
    config,
    description: `a local redis-server on port ${port}, AOF persistence in ${join(dataDir, 'appendonlydir')}`,
    pid: child.pid,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
