import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createIngestService, createProducer } from '@nself-tv/queues';
import { createRequestConnection, loadRedisConfig } from '@nself-tv/redis-keys';
import { makeSample } from '@nself-tv/sample-media';
import { openStorage, storageSettings } from '@nself-tv/storage';
import {
  jobApi,
  killAppProcesses,
  processesMatching,
  type RedisServerHandle,
  startAppProcess,
  startRedisCluster,
  startRedisServer,
  startS3Server,
  until,
} from '@nself-tv/test-redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const TOKEN = 'test-api-token-0123456789';
let server: RedisServerHandle;
let mediaRoot: string;
let jobTmp: string;

beforeAll(async () => {
  server = await startRedisServer();
  mediaRoot = await mkdtemp(join(tmpdir(), 'vp-main-'));
  jobTmp = await mkdtemp(join(tmpdir(), 'vp-jobtmp-'));
  await mkdir(join(mediaRoot, 'media', 'uploads'), { recursive: true });
  await makeSample(join(mediaRoot, 'media', 'uploads'), 'short', 640, 360, { seconds: 6 });
  await makeSample(join(mediaRoot, 'media', 'uploads'), 'long', 1280, 720, { seconds: 60, subtitles: false });
  // Encoding a minute of 720p takes a few seconds alone, longer on a busy machine.
}, 60_000);
afterAll(async () => {
  killAppProcesses();
  await server.close();
  await rm(mediaRoot, { recursive: true, force: true });
  await rm(jobTmp, { recursive: true, force: true });
});

const startApp = (env: Record<string, string> = {}) =>
  startAppProcess(main, 'video-processor listening', {
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL: server.url,
    MEDIA_ROOT: mediaRoot,
    API_TOKEN: TOKEN,
    TMPDIR: jobTmp,
    ...env,
  });

const post = (address: string, kind: string, body: unknown) => jobApi(address, TOKEN).submit(kind, body);
const jobOf = (address: string, id: string) => jobApi(address, TOKEN).job(id);
const ffmpegsUnder = (dir: string) => processesMatching(`ffmpeg.*${dir}`);

describe('video-processor app', () => {
  it('takes jobs over HTTP, runs them and reports their result', async () => {
    const app = startApp();
    const address = await app.address;
    const bad = await post(address, 'transcode', {
      mediaId: 'x',
      familyId: 'f',
      source: { bucket: 'media', key: '../x' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBeDefined();
    const payload = { mediaId: 'short', familyId: 'f', source: { bucket: 'media', key: 'uploads/short.mkv' } };
    const queued = await Promise.all([
      post(address, 'transcode', { ...payload, output: { bucket: 'media', prefix: 'hls/short/' } }),
      post(address, 'trickplay', { ...payload, output: { bucket: 'media', prefix: 'tp/short/' } }),
      post(address, 'subtitle', { ...payload, output: { bucket: 'media', prefix: 'subs/short/' } }),
    ]);
    for (const q of queued) expect(q).toMatchObject({ status: 202, body: { status: 'queued' } });
    for (const q of queued) {
      const done = await until(async () => {
        const j = await jobOf(address, q.body.jobId);
        return j.state === 'completed' || j.state === 'failed' ? j : undefined;
      });
      expect(done.state, JSON.stringify(done.failedReason)).toBe('completed');
    }
    expect(existsSync(join(mediaRoot, 'media', 'hls/short/master.m3u8'))).toBe(true);
    expect(existsSync(join(mediaRoot, 'media', 'tp/short/trickplay.vtt'))).toBe(true);
    expect(existsSync(join(mediaRoot, 'media', 'subs/short/sub_eng_2.vtt'))).toBe(true);
    const status = await fetch(`${address}/api/v1/queues/status`).then(
      (r) => r.json() as Promise<{ queues: { queue: string; completed: number }[] }>,
    );
    // The transcode ran as its job and two parts (its audio and its one chunk), all on video:transcode.
    expect(status.queues.map((q) => q.completed)).toEqual([3, 1, 1]);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
  }, 120_000);

  it("gives an ingest's fan-out jobs the QUEUE_<NAME>_ATTEMPTS/BACKOFF_* the app was started with", async () => {
    const app = startApp({
      QUEUE_VIDEO_SUBTITLE_ATTEMPTS: '6',
      QUEUE_IMAGE_POSTER_ATTEMPTS: '4',
      QUEUE_IMAGE_POSTER_BACKOFF_TYPE: 'fixed',
      QUEUE_IMAGE_POSTER_BACKOFF_DELAY_MS: '500',
    });
    await app.address;
    const connection = createRequestConnection(loadRedisConfig({ REDIS_URL: server.url }));
    const producer = createProducer({ connection });
    const ingest = createIngestService({ connection, producer });
    await ingest.start({
      ingestId: 'fan-out-env',
      mediaId: 'fanout',
      familyId: 'f',
      source: { bucket: 'media', key: 'uploads/short.mkv' },
    });
    const optsOf = async (queue: string, stage: 'posters' | 'subtitles') => {
      const raw = await connection.hget(`bull:${queue}:${ingest.jobIdFor('fan-out-env', stage)}`, 'opts');
      return raw ? (JSON.parse(raw) as { attempts: number; backoff: unknown }) : undefined;
    };
    // Nothing consumes image:poster here, so the job waits with the options it was given.
    const poster = await until(() => optsOf('image:poster', 'posters'), 90_000);
    expect(poster).toMatchObject({ attempts: 4, backoff: { type: 'fixed', delay: 500 } });
    expect(await optsOf('video:subtitle', 'subtitles')).toMatchObject({ attempts: 6 });
    await producer.close();
    connection.disconnect();
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
  }, 120_000);

  it('runs on S3-compatible storage: the source comes down, the HLS goes up, no temp file stays', async () => {
    const s3 = await startS3Server(['media']);
    try {
      const store = await openStorage(storageSettings.read(s3.env));
      const source = await readFile(join(mediaRoot, 'media', 'uploads', 'short.mkv'));
      await store.write({ bucket: 'media', key: 'uploads/short.mkv' }, Readable.from([source]));
      // No MEDIA_ROOT files are involved: an empty folder shows nothing is read from or written to disk there.
      const app = startApp({ ...s3.env, MEDIA_ROOT: await mkdtemp(join(tmpdir(), 'vp-s3-empty-')) });
      const address = await app.address;
      const payload = { mediaId: 's3film', familyId: 'f', source: { bucket: 'media', key: 'uploads/short.mkv' } };
      const queued = await Promise.all([
        post(address, 'transcode', { ...payload, output: { bucket: 'media', prefix: 'hls/s3film/' } }),
        post(address, 'subtitle', { ...payload, output: { bucket: 'media', prefix: 'subs/s3film/' } }),
      ]);
      for (const q of queued) {
        const done = await until(async () => {
          const j = await jobOf(address, q.body.jobId);
          return j.state === 'completed' || j.state === 'failed' ? j : undefined;
        });
        expect(done.state, JSON.stringify(done.failedReason)).toBe('completed');
      }
      const keys = (await store.list('media', 'hls/s3film/')).map((o) => o.key);
      expect(keys).toContain('hls/s3film/master.m3u8');
      expect(keys.some((k) => k.endsWith('.ts') || k.endsWith('.m4s'))).toBe(true);
      expect((await store.read({ bucket: 'media', key: 'hls/s3film/master.m3u8' })).toString()).toContain('#EXTM3U');
      expect((await store.list('media', 'subs/s3film/')).length).toBeGreaterThan(0);
      // A missing source is a final failure, as on the filesystem.
      const missing = await post(address, 'transcode', {
        ...payload,
        source: { bucket: 'media', key: 'uploads/never.mkv' },
        output: { bucket: 'media', prefix: 'hls/never/' },
      });
      const failed = await until(async () => {
        const j = await jobOf(address, missing.body.jobId);
        return j.state === 'failed' ? j : undefined;
      });
      expect(failed).toMatchObject({ attemptsMade: 1 });
      app.child.kill('SIGTERM');
      expect(await app.exited).toBe(0);
      // Every download went into a job's temporary folder and left with it.
      expect(await readdir(jobTmp)).toEqual([]);
    } finally {
      await s3.close();
    }
  }, 120_000);

  it('runs on a Redis Cluster (REDIS_CLUSTER_NODES): a job over HTTP completes, SIGTERM exits 0', async () => {
    const cluster = await startRedisCluster();
    try {
      const app = startApp({ REDIS_URL: '', ...cluster.env });
      const address = await app.address;
      const queued = await post(address, 'subtitle', {
        mediaId: 'clustered',
        familyId: 'f',
        source: { bucket: 'media', key: 'uploads/short.mkv' },
        output: { bucket: 'media', prefix: 'subs/clustered/' },
      });
      const done = await until(async () => {
        const j = await jobOf(address, queued.body.jobId);
        return j.state === 'completed' || j.state === 'failed' ? j : undefined;
      });
      expect(done.state, JSON.stringify(done.failedReason)).toBe('completed');
      expect(await readdir(join(mediaRoot, 'media', 'subs', 'clustered'))).not.toEqual([]);
      app.child.kill('SIGTERM');
      expect(await app.exited).toBe(0);
    } finally {
      await cluster.close();
    }
  }, 120_000);

  it('S3 failures by the retry policy: denied access fails at once, a store that is down is retried', async () => {
    const s3 = await startS3Server(['media']);
    const emptyRoot = () => mkdtemp(join(tmpdir(), 'vp-s3-empty-'));
    try {
      const payload = { mediaId: 'denied', familyId: 'f', source: { bucket: 'media', key: 'uploads/any.mkv' } };
      const output = { bucket: 'media', prefix: 'hls/denied/' };
      const outcome = async (env: Record<string, string>) => {
        const app = startApp({ ...s3.env, MEDIA_ROOT: await emptyRoot(), ...env });
        const address = await app.address;
        const queued = await post(address, 'transcode', { ...payload, output });
        const failed = await until(async () => {
          const j = await jobOf(address, queued.body.jobId);
          return j.state === 'failed' ? j : undefined;
        }, 60_000);
        app.child.kill('SIGTERM');
        expect(await app.exited).toBe(0);
        return failed;
      };
      // s3rver knows one access key; any other is refused (InvalidAccessKeyId), as MinIO and AWS refuse it.
      const denied = await outcome({ S3_ACCESS_KEY_ID: 'NOT-A-KNOWN-KEY' });
      expect(denied.attemptsMade).toBe(1);
      expect(denied.failedReason).toMatch(/denied access/);
      // Nothing listens on the endpoint: every attempt is made, with the configured backoff.
      const down = await outcome({
        S3_ENDPOINT: 'http://127.0.0.1:9',
        QUEUE_VIDEO_TRANSCODE_ATTEMPTS: '2',
        QUEUE_VIDEO_TRANSCODE_BACKOFF_TYPE: 'fixed',
        QUEUE_VIDEO_TRANSCODE_BACKOFF_DELAY_MS: '200',
      });
      expect(down.attemptsMade).toBe(2);
      expect(down.failedReason).toMatch(/did not answer/);
      expect(await readdir(jobTmp)).toEqual([]);
    } finally {
      await s3.close();
    }
  }, 120_000);

  it('SIGTERM mid-transcode: ffmpeg is killed, temp dirs removed, the job back in wait, exit 0', async () => {
    const app = startApp({ SHUTDOWN_DEADLINE_MS: '500' });
    const address = await app.address;
    const queued = await post(address, 'transcode', {
      mediaId: 'long',
      familyId: 'f',
      source: { bucket: 'media', key: 'uploads/long.mkv' },
      output: { bucket: 'media', prefix: 'hls/long/' },
    });
    // The film's one chunk is encoding (a part of the transcode job, on the same queue).
    const chunk = `${queued.body.jobId}-c0000`;
    await until(async () => {
      const j = await jobOf(address, chunk);
      return j.state === 'active' && Number(j.progress) > 0 ? true : undefined;
    }, 30_000);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    expect(ffmpegsUnder(jobTmp)).toEqual([]);
    expect((await readdir(jobTmp)).filter((n) => n.startsWith('nself-'))).toEqual([]);
    expect(existsSync(join(mediaRoot, 'media', 'hls/long/master.m3u8'))).toBe(false);

    const again = startApp({ SHUTDOWN_DEADLINE_MS: '200' });
    const address2 = await again.address;
    // The transcode still waits for its parts; the chunk is back in wait, so the restarted worker picks it up again.
    expect((await jobOf(address2, queued.body.jobId)).state).toBe('waiting-children');
    const part = await jobOf(address2, chunk);
    expect(part.attemptsMade).toBe(0);
    expect(['waiting', 'active']).toContain(part.state);
    // SIGTERM, not SIGKILL: the restarted worker may already run ffmpeg, which must not outlive the test.
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    expect(ffmpegsUnder(jobTmp)).toEqual([]);
  }, 120_000);
});
