import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { harnessProcesses } from './harness-processes.js';
import { freePort, REDIS_MISSING_MESSAGE, startRedisServer } from './redis-server.js';
import { scanKeys, uniqueNamespace, useTestRedis } from './test-redis.js';

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

const until = async (check: () => Promise<boolean>, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
};

describe('leftover check', () => {
  it("finds the harness's servers and not a Redis someone else started on another port", async () => {
    const ownPort = await freePort();
    const own = spawn('redis-server', ['--port', String(ownPort), '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    try {
      expect(await until(() => listening(ownPort), 10_000)).toBe(true);
      const server = await startRedisServer();
      const pids = harnessProcesses().map((p) => p.pid);
      expect(pids).not.toContain(own.pid);
      expect(harnessProcesses().some((p) => p.command.startsWith(`redis-server 127.0.0.1:${server.port}`))).toBe(true);
      await server.close();
      expect(harnessProcesses().some((p) => p.command.includes(`:${server.port}`))).toBe(false);
      // The CLI CI runs after the tests: the other Redis is none of its business (this run's
      // own shared server is still up here, so only what the CLI names is checked).
      const cli = fileURLToPath(new URL('../dist/leftovers-cli.js', import.meta.url));
      const check = spawn(process.execPath, [cli], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      check.stdout.on('data', (b: Buffer) => {
        out += b.toString();
      });
      check.stderr.on('data', (b: Buffer) => {
        out += b.toString();
      });
      await new Promise((resolve) => check.once('exit', resolve));
      expect(out).not.toContain(`:${ownPort}`);
    } finally {
      own.kill('SIGKILL');
    }
  });
});

describe('startRedisServer', () => {
  it('starts a private server, restarts it on the same port, and leaves nothing after close', async () => {
    const server = await startRedisServer();
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(await listening(server.port)).toBe(true);
    await server.stop();
    expect(await listening(server.port)).toBe(false);
    await server.start();
    expect(await listening(server.port)).toBe(true);
    await server.close();
    expect(await listening(server.port)).toBe(false);
  });

  it('fails with the install instructions when redis-server is missing', async () => {
    await expect(startRedisServer({ binary: 'no-such-redis-server' })).rejects.toThrow(REDIS_MISSING_MESSAGE);
    expect(REDIS_MISSING_MESSAGE).toContain('apt-get install -y redis-server');
    expect(REDIS_MISSING_MESSAGE).toContain('REDIS_URL');
  });

  it('stops the server when the process that started it is killed with SIGKILL', async () => {
    const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { startRedisServer } = await import(${JSON.stringify(entry)});
         const s = await startRedisServer(); console.log(s.port); setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const port = await new Promise<number>((resolve) => child.stdout.once('data', (b: Buffer) => resolve(Number(b))));
    expect(await listening(port)).toBe(true);
    child.kill('SIGKILL');
    expect(await until(async () => !(await listening(port)), 10_000)).toBe(true);
  });
});

describe('useTestRedis', () => {
  const redis = useTestRedis();

  it('gives each file its own namespace and finds its keys with SCAN', async () => {
    expect(redis.namespace).toMatch(/^t[0-9a-f]{10}$/);
    expect(uniqueNamespace()).not.toBe(redis.namespace);
    await redis.client.set(`${redis.namespace}:a`, '1');
    await redis.client.set(`${redis.namespace}:b`, '2');
    await redis.client.set(`other-${redis.namespace}:c`, '3');
    expect(await redis.keys()).toEqual([`${redis.namespace}:a`, `${redis.namespace}:b`]);
    expect(await scanKeys(redis.client, `other-${redis.namespace}:*`)).toHaveLength(1);
    await redis.client.del(`other-${redis.namespace}:c`);
  });
});
