import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type RedisServerHandle, startRedisServer } from '@nself-tv/test-redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_SECRET, PLAYBACK_SECRET, token } from './test-helpers.js';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
let server: RedisServerHandle;
const children: ChildProcess[] = [];
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await server.close();
});

function startGateway(): Promise<{ child: ChildProcess; address: string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      REDIS_URL: server.url,
      AUTH_JWT_SECRET: AUTH_SECRET,
      PLAYBACK_JWT_SECRET: PLAYBACK_SECRET,
      ADMIT_RATE_LIMIT_PER_MINUTE: '10000',
      // The race is about the stream limits; who may play what has its own tests.
      PLAYBACK_ACCESS: 'any',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (b: Buffer) => {
      buffer += b.toString();
      for (const line of buffer.split('\n')) {
        if (line.includes('"stream-gateway listening"')) resolve({ child, address: JSON.parse(line).address, exited });
      }
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
  });
}

describe('two gateway processes on one Redis', () => {
  it('200 concurrent admits for one family: exactly 10 admitted; SIGTERM exits 0', async () => {
    const gateways = await Promise.all([startGateway(), startGateway()]);
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => token(`user-${i}`, 'big-family')));
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        fetch(`${gateways[i % 2]?.address}/api/v1/admit`, {
          method: 'POST',
          headers: { authorization: `Bearer ${tokens[i % 20]}`, 'content-type': 'application/json' },
          body: JSON.stringify({ mediaId: 'm', deviceId: `device-${i}` }),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: string } })),
      ),
    );
    const admitted = responses.filter((r) => r.status === 200);
    expect(admitted).toHaveLength(10);
    expect(responses.filter((r) => r.status === 429 && r.body.error === 'concurrency_limit')).toHaveLength(190);
    const client = new Redis(server.url);
    expect(await client.scard('family_streams:big-family')).toBe(10);
    client.disconnect();

    for (const g of gateways) g.child.kill('SIGTERM');
    expect(await Promise.all(gateways.map((g) => g.exited))).toEqual([0, 0]);
  }, 60_000);
});
