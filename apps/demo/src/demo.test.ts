import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createKeyspace } from '@nself-tv/redis-keys';
import { harnessEnv, type RedisServerHandle, startRedisServer } from '@nself-tv/test-redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
let server: RedisServerHandle;
let dir: string;

beforeAll(async () => {
  server = await startRedisServer();
  dir = await mkdtemp(join(tmpdir(), 'demo-test-'));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs the demo as a user would (output piped, so plain lines), optionally interrupting it. */
function runDemo(args: string[], env: Record<string, string>, interruptWhen?: RegExp) {
  const child = spawn(process.execPath, [main, ...args], {
    // Marked, so whatever the demo starts counts as the tests' in the leftover check.
    env: { ...process.env, ...harnessEnv(), REDIS_URL: '', REDIS_HOST: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const onData = (b: Buffer) => {
    out += b.toString();
    if (interruptWhen?.test(out) && child.exitCode === null) {
      interruptWhen = undefined;
      child.kill('SIGINT');
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return new Promise<{ code: number | null; out: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, out })),
  );
}

const pidsIn = (out: string) => [...out.matchAll(/\(pid (\d+)/g)].map((m) => Number(m[1]));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** Processes whose command line names the folder: the demo's redis-server and any ffmpeg on its media. */
const processesUnder = (folder: string) => {
  try {
    return execFileSync('pgrep', ['-fa', folder]).toString().trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

describe('pnpm demo', () => {
  it('ingests a generated sample end to end on a given Redis and shows the device_limit refusal', async () => {
    const run = join(dir, 'given');
    const { code, out } = await runDemo(['--seconds', '6', '--dir', run], { REDIS_URL: server.url });
    expect(code, out).toBe(0);
    expect(out).toContain(`using your Redis (redis://127.0.0.1:${new URL(server.url).port}/0`);
    expect(out).toMatch(/POST \/api\/v1\/admit demo-[0-9a-f]+ \(a third stream\) → 429 device_limit/);
    expect(out).toMatch(/POST \/api\/v1\/admit another-familys-film → 403 policy_denied/);
    expect(out).toContain('Summary: ingest completed');
    expect(out).toMatch(/POST \/api\/v1\/ingests \(Idempotency-Key ingest-demo-[0-9a-f]+\) → 202 ingest ingest-demo-/);
    expect(out).toMatch(/a client retry\) → ingest ingest-demo-[0-9a-f]+, replayed: true/);
    expect(out).toContain('cache:recent after the ingest: invalidated');
    // Played over HTTP through the gateway, then refused once the session ended.
    expect(out).toMatch(/mediaUrl http:\/\/127\.0\.0\.1:\d+\/play\/demo-[0-9a-f]+\/[^/]+\/master\.m3u8/);
    expect(out).toContain('to the end: ok');
    expect(out).toContain('GET mediaUrl after the session ended → 403');
    expect(out).toContain('nothing left running');

    const redis = new Redis(server.url);
    try {
      const [, keys] = await redis.scan('0', 'MATCH', createKeyspace().pattern('ingest'), 'COUNT', 1000);
      expect(keys).toHaveLength(1);
      const state = JSON.parse((await redis.get(keys[0] as string)) as string);
      expect(state.status).toBe('completed');
      expect(state.output).toEqual({ bucket: 'media', prefix: expect.stringMatching(/^library\/demo-[0-9a-f]+\/$/) });
      expect(await redis.ttl(keys[0] as string)).toBeGreaterThan(86_000);
      const prefix = join(run, 'media', state.output.bucket, state.output.prefix);
      for (const file of [
        'master.m3u8',
        '240p/index.m3u8',
        'trickplay/trickplay.vtt',
        'trickplay/sprite_000.jpg',
        'subtitles/sub_eng_2.vtt',
        'posters/poster-400w.webp',
        'sprites/sprites.vtt',
      ])
        expect(existsSync(join(prefix, file)), file).toBe(true);
      expect(await readFile(join(prefix, 'subtitles/sub_eng_2.vtt'), 'utf8')).toContain('Hello from nself-tv');
      // The subtitle stage listed its track in the master; the audio track is an alternate rendition.
      const master = await readFile(join(prefix, 'master.m3u8'), 'utf8');
      expect(master).toContain('TYPE=SUBTITLES');
      expect(master).toContain('TYPE=AUDIO');
      // The sessions were ended: no session key is left.
      const [, sessions] = await redis.scan('0', 'MATCH', createKeyspace().pattern('session'), 'COUNT', 1000);
      expect(sessions).toEqual([]);
    } finally {
      redis.disconnect();
    }
    const pids = pidsIn(out);
    expect(pids).toHaveLength(3);
    expect(pids.filter(alive)).toEqual([]);
    expect(processesUnder(run)).toEqual([]);
  });

  it('starts its own redis-server with AOF when no Redis is given, and Ctrl-C mid-ingest leaves nothing running', async () => {
    const run = join(dir, 'own');
    const { code, out } = await runDemo(['--seconds', '60', '--dir', run], {}, /\[ingest\] transcode running/);
    expect(code, out).toBe(130);
    expect(out).toMatch(/using a local redis-server on port \d+, AOF persistence in .*appendonlydir/);
    expect(out).toContain('SIGINT: cleaning up');
    expect(out).toContain('nothing left running');
    const pids = pidsIn(out);
    expect(pids).toHaveLength(4); // three apps and redis-server
    expect(pids.filter(alive)).toEqual([]);
    expect(processesUnder(run)).toEqual([]);
    expect((await readdir(join(run, 'redis', 'appendonlydir'))).some((f) => f.endsWith('.aof'))).toBe(true);
  });

  it('--s3 keeps the media in a local S3 server: ingest, sessions and playback over HTTP all work', async () => {
    const run = join(dir, 's3');
    const { code, out } = await runDemo(['--seconds', '4', '--dir', run, '--s3'], { REDIS_URL: server.url });
    expect(code, out).toBe(0);
    expect(out).toMatch(/a local S3-compatible server \(s3rver\) at http:\/\/127\.0\.0\.1:\d+, bucket media/);
    expect(out).toContain('Summary: ingest completed');
    expect(out).toMatch(/files under s3:\/\/media\/library\/demo-[0-9a-f]+\/ /);
    expect(out).toMatch(/master\.m3u8/);
    // The gateway serves the HLS from the object store.
    expect(out).toContain('to the end: ok');
    expect(out).toContain('GET mediaUrl after the session ended → 403');
    expect(out).toContain('nothing left running');
    // Nothing was written under the file store.
    expect(existsSync(join(run, 'media', 'media', 'library'))).toBe(false);
    const refused = await runDemo(['--s3', '--keep'], {});
    expect(refused.code).toBe(2);
    expect(refused.out).toContain('drop --keep');
  });

  it('--keep leaves the apps running and says how to reach them', async () => {
    const run = join(dir, 'keep');
    const { code, out } = await runDemo(['--seconds', '4', '--dir', run, '--keep'], { REDIS_URL: server.url });
    expect(code, out).toBe(0);
    const running = JSON.parse(await readFile(join(run, 'running.json'), 'utf8')) as {
      apps: { name: string; pid: number; address: string }[];
    };
    try {
      expect(running.apps.map((a) => a.name)).toEqual(['video-processor', 'thumbnail-generator', 'stream-gateway']);
      for (const app of running.apps) {
        expect(out).toContain(`${app.address}/health`);
        expect((await fetch(`${app.address}/health`)).status).toBe(200);
      }
      expect(out).toMatch(/stop them with: kill -TERM -\d+ -\d+ -\d+/);
    } finally {
      for (const app of running.apps) process.kill(-app.pid, 'SIGTERM');
    }
    for (const app of running.apps) {
      const deadline = Date.now() + 15_000;
      while (alive(app.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(alive(app.pid)).toBe(false);
    }
  });
});
