// Attacks and faults through the built app's HTTP surface and process boundary: hostile
// files made at test time, links planted in the media root, real signals to real process
// groups, a real Redis stopped under the app.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, tools } from '@nself-tv/media-tools';
import { createProducer } from '@nself-tv/queues';
import { createRequestConnection, loadRedisConfig } from '@nself-tv/redis-keys';
import { makeSample } from '@nself-tv/sample-media';
import {
  type AppProcess,
  jobApi,
  killAppProcesses,
  processesMatching,
  type RedisServerHandle,
  startAppProcess,
  startRedisServer,
  until,
} from '@nself-tv/test-redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const TOKEN = 'hardening-api-token-0123456789';
const SECRET_TEXT = 'TOP SECRET LINE FROM OUTSIDE';
let server: RedisServerHandle;
let base: string;
let mediaRoot: string;
let outside: string;
let jobTmp: string;

const ffmpeg = (...args: string[]) => run(tools.ffmpeg, ['-v', 'error', '-y', ...args]);
const upload = (key: string) => join(mediaRoot, 'media', key);

beforeAll(async () => {
  server = await startRedisServer();
  base = await mkdtemp(join(tmpdir(), 'vp-hardening-'));
  mediaRoot = join(base, 'root');
  outside = join(base, 'outside');
  jobTmp = join(base, 'tmp');
  for (const dir of [join(mediaRoot, 'media', 'uploads'), join(mediaRoot, 'other'), outside, jobTmp]) {
    await mkdir(dir, { recursive: true });
  }
  // What an attacker wants to read: a video and a subtitle outside the root, another family's bucket.
  await ffmpeg('-f', 'lavfi', '-i', 'testsrc=s=176x144:r=25:d=3', join(outside, 'secret.mkv'));
  await writeFile(join(outside, 'secret.srt'), `1\n00:00:00,000 --> 00:00:02,000\n${SECRET_TEXT}\n`);
  await ffmpeg('-f', 'lavfi', '-i', 'testsrc=s=208x120:r=25:d=3', join(mediaRoot, 'other', 'private.mkv'));
  await makeSample(join(mediaRoot, 'media', 'uploads'), 'short', 320, 180, { seconds: 3 });
  await makeSample(join(mediaRoot, 'media', 'uploads'), 'long', 1280, 720, { seconds: 60, subtitles: false });
  const playlist = (entry: string) => `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:3,\n${entry}\n#EXT-X-ENDLIST\n`;
  const hostile: Record<string, string> = {
    'uploads/movie.mp4': playlist(join(outside, 'secret.mkv')),
    'uploads/relative.mp4': playlist('../../../outside/secret.mkv'),
    'uploads/cross-family.mkv': playlist('../../other/private.mkv'),
    'uploads/concat.mov': `ffconcat version 1.0\nfile '${join(outside, 'secret.mkv')}'\n`,
    'uploads/subs.srt': playlist(join(outside, 'secret.srt')),
  };
  for (const [key, text] of Object.entries(hostile)) await writeFile(upload(key), text);
  // Planted links: a subtitle that is a link to an outside file, a folder that is a link outside.
  await symlink(join(outside, 'secret.srt'), upload('uploads/link.srt'));
  await symlink(outside, upload('escape'));
});
afterAll(async () => {
  killAppProcesses();
  await server.close();
  await rm(base, { recursive: true, force: true });
});

const startApp = (env: Record<string, string> = {}, options: { processGroup?: boolean } = {}) =>
  startAppProcess(
    main,
    'video-processor listening',
    {
      PORT: '0',
      HOST: '127.0.0.1',
      REDIS_URL: server.url,
      MEDIA_ROOT: mediaRoot,
      API_TOKEN: TOKEN,
      TMPDIR: jobTmp,
      ...env,
    },
    options,
  );

const media = { mediaId: 'm1', familyId: 'f1' };
const source = (key: string) => ({ bucket: 'media', key });
const output = (prefix: string) => ({ bucket: 'media', prefix });

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

const ffmpegsUnder = (dir: string) => processesMatching(`ffmpeg.*${dir}`);

describe('hostile inputs', () => {
  let app: AppProcess;
  let api: ReturnType<typeof jobApi>;
  beforeAll(async () => {
    app = startApp();
    api = jobApi(await app.address, TOKEN);
  });
  afterAll(async () => {
    app.child.kill('SIGTERM');
    await app.exited;
  });

  it('a playlist or concat list uploaded as a video is refused by every job; nothing outside reaches an output', async () => {
    const jobs: [string, unknown][] = [];
    for (const key of ['uploads/movie.mp4', 'uploads/relative.mp4', 'uploads/cross-family.mkv', 'uploads/concat.mov']) {
      const name = key.replace(/\W/g, '-');
      jobs.push(['transcode', { ...media, source: source(key), output: output(`out/${name}/hls/`) }]);
      jobs.push(['trickplay', { ...media, source: source(key), output: output(`out/${name}/tp/`) }]);
      jobs.push(['subtitle', { ...media, source: source(key), output: output(`out/${name}/subs/`) }]);
    }
    const submitted = await Promise.all(jobs.map(([kind, body]) => api.submit(kind, body)));
    for (const s of submitted) expect(s.status).toBe(202);
    for (const [i, s] of submitted.entries()) {
      const done = await api.settled(s.body.jobId);
      const what = JSON.stringify(jobs[i]);
      expect(done.state, what).toBe('failed');
      // Final at once: a retry reads the same file.
      expect(done.attemptsMade, what).toBe(1);
      // Nothing a client reads holds a server path.
      expect(done.failedReason, what).not.toContain(mediaRoot);
      expect(done.failedReason, what).not.toContain(base);
      expect(done.failedReason, what).not.toContain(jobTmp);
      expect(JSON.stringify(done), what).not.toContain(base);
    }
    // A failed job writes nothing (the subtitle stage stores its tracks only once every one converted).
    expect(await filesUnder(join(mediaRoot, 'media', 'out'))).toEqual([]);
    for (const file of await filesUnder(mediaRoot)) {
      if (file.startsWith(join(mediaRoot, 'media', 'out')))
        expect(await readFile(file, 'utf8'), file).not.toContain(SECRET_TEXT);
    }
  });

  it('a sidecar that is a playlist naming an outside file, or a planted link, is skipped with a code; nothing outside is read', async () => {
    const submitted = await api.submit('subtitle', {
      ...media,
      source: source('uploads/short.mkv'),
      output: output('out-sidecars/'),
      sidecars: [
        { ...source('uploads/subs.srt'), language: 'en' },
        { ...source('uploads/link.srt'), language: 'en' },
      ],
    });
    expect(submitted.status).toBe(202);
    const done = await api.settled(submitted.body.jobId);
    expect(done.state).toBe('completed');
    const skipped = (done.result as { skipped: { sidecarKey?: string; code: string }[] }).skipped;
    expect(skipped.filter((s) => s.sidecarKey)).toEqual([
      expect.objectContaining({ sidecarKey: 'uploads/subs.srt', code: 'SIDECAR_UNKNOWN_FORMAT' }),
      expect.objectContaining({ sidecarKey: 'uploads/link.srt', code: 'SIDECAR_REFUSED' }),
    ]);
    expect(JSON.stringify(done)).not.toContain(base);
    for (const file of await filesUnder(join(mediaRoot, 'media', 'out-sidecars'))) {
      expect(await readFile(file, 'utf8'), file).not.toContain(SECRET_TEXT);
    }
  });

  it('links in the media root never lead reads or writes outside it', async () => {
    const before = (await readdir(outside)).sort();
    const through = await api.submit('transcode', {
      ...media,
      source: source('uploads/short.mkv'),
      output: output('escape/hls/'),
    });
    const done = await api.settled(through.body.jobId);
    expect(done.state).toBe('failed');
    expect(done.attemptsMade).toBe(1);
    expect(done.failedReason).toMatch(/leaves its bucket/);
    const read = await api.submit('trickplay', {
      ...media,
      source: source('escape/secret.mkv'),
      output: output('tp/'),
    });
    expect((await api.settled(read.body.jobId)).failedReason).toMatch(/leaves its bucket/);
    expect((await readdir(outside)).sort()).toEqual(before);
  });

  it('refuses at the door what the store would refuse and numbers without a bound', async () => {
    const bad: [string, unknown, string][] = [
      [
        'trickplay',
        { ...media, source: source('uploads/short.mkv'), output: output('t/'), intervalSeconds: 0.001 },
        'intervalSeconds',
      ],
      [
        'trickplay',
        { ...media, source: source('uploads/short.mkv'), output: output('t/'), intervalSeconds: 1e-7 },
        'intervalSeconds',
      ],
      ['transcode', { ...media, source: source('uploads/short.mkv'), output: output('x//y/') }, 'output.prefix'],
      ['transcode', { ...media, source: source('uploads/short.mkv'), output: output('.partial-x/') }, 'output.prefix'],
      ['transcode', { ...media, source: source(`uploads/${'v'.repeat(300)}.mp4`), output: output('x/') }, 'source.key'],
      ['transcode', { ...media, source: source('a//v.mp4'), output: output('x/') }, 'source.key'],
      ['transcode', { ...media, source: source('uploads/short.mkv'), output: output('x/'), extra: 1 }, 'extra'],
    ];
    for (const [kind, body, field] of bad) {
      const res = await api.submit(kind, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toMatchObject({ error: 'bad_request', field });
    }
  });

  it('refuses a source whose declared frame is over MAX_VIDEO_PIXELS before decoding it', async () => {
    // 8192x8192 is 67 MP, over the default 8K limit (33 MP); the file itself is small.
    await ffmpeg(
      '-f',
      'lavfi',
      '-i',
      'color=s=8192x8192',
      '-frames:v',
      '1',
      '-c:v',
      'mjpeg',
      upload('uploads/huge.mkv'),
    );
    expect((await stat(upload('uploads/huge.mkv'))).size).toBeLessThan(2_000_000);
    for (const kind of ['transcode', 'trickplay']) {
      const res = await api.submit(kind, {
        ...media,
        source: source('uploads/huge.mkv'),
        output: output(`huge/${kind}/`),
      });
      const done = await api.settled(res.body.jobId);
      expect(done.state).toBe('failed');
      expect(done.attemptsMade).toBe(1);
      expect(done.failedReason).toMatch(/8192x8192 frame is larger than the limit of 33177600 pixels/);
    }
    expect(existsSync(upload('huge'))).toBe(false);
  });

  it('a 2 s video with 30 s of audio: the still frame named in the result exists', async () => {
    await ffmpeg(
      ...['-f', 'lavfi', '-i', 'testsrc=s=320x240:r=25:d=2', '-f', 'lavfi', '-i', 'sine=d=30'],
      ...['-c:v', 'libx264', '-c:a', 'aac', upload('uploads/short-video-long-audio.mp4')],
    );
    const res = await api.submit('transcode', {
      ...media,
      source: source('uploads/short-video-long-audio.mp4'),
      output: output('svla/'),
    });
    const done = await api.settled(res.body.jobId);
    expect(done.state, done.failedReason).toBe('completed');
    expect(done.result.stillFrameKey).toBe('svla/still.jpg');
    expect((await stat(upload('svla/still.jpg'))).size).toBeGreaterThan(0);
  });
});

describe('stopping and crashing', () => {
  // Each case hands its long job back to wait; clear it so the next case's worker starts empty.
  afterEach(async () => {
    const connection = createRequestConnection(loadRedisConfig({ REDIS_URL: server.url }));
    const producer = createProducer({ connection });
    try {
      await producer.queue('video:transcode').obliterate({ force: true });
    } finally {
      await producer.close();
      connection.disconnect();
    }
  });

  const longTranscode = (api: ReturnType<typeof jobApi>, prefix: string) =>
    api.submit('transcode', { ...media, source: source('uploads/long.mkv'), output: output(prefix) });

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)(
    '%s to the whole process group does not fail the job: it goes back to wait, the app exits 0',
    async (signal) => {
      // A deadline with room: on a loaded machine the hand-back must not race the forced exit.
      const app = startApp({ SHUTDOWN_DEADLINE_MS: '1000' }, { processGroup: true });
      const api = jobApi(await app.address, TOKEN);
      const queued = await longTranscode(api, `group-${signal}/`);
      // This case's chunk is encoding (a job handed back by an earlier case may run beside it).
      const chunk = `${queued.body.jobId}-c0000`;
      await until(async () => {
        const job = await api.job(chunk);
        return job.state === 'active' && Number(job.progress) > 0 ? true : undefined;
      }, 30_000);
      // What Ctrl-C in a terminal (SIGINT), a closed terminal (SIGHUP) or systemd's control-group
      // kill (SIGTERM) does: every process of the group gets it at once.
      process.kill(-(app.child.pid as number), signal);
      expect(await app.exited).toBe(0);
      await until(async () => (ffmpegsUnder(jobTmp).length === 0 ? true : undefined), 20_000);

      const again = startApp({ SHUTDOWN_DEADLINE_MS: '200' });
      const againApi = jobApi(await again.address, TOKEN);
      for (const id of [queued.body.jobId, chunk]) {
        const job = await againApi.job(id);
        expect(job.attemptsMade).toBe(0);
        expect(job.failedReason).toBeUndefined();
      }
      again.child.kill('SIGTERM');
      expect(await again.exited).toBe(0);
    },
  );

  it('SIGKILL of the worker takes its ffmpeg with it, and the next start sweeps its temp folder', async () => {
    const app = startApp();
    const api = jobApi(await app.address, TOKEN);
    const queued = await longTranscode(api, 'killed/');
    await until(async () => {
      const job = await api.job(`${queued.body.jobId}-c0000`);
      return job.state === 'active' && Number(job.progress) > 0 ? true : undefined;
    }, 30_000);
    // A job handed back by an earlier case may start beside it: kill only once no ffmpeg is being
    // spawned (the same processes for a second). A child still between fork and setpriv's
    // PR_SET_PDEATHSIG when its parent dies would outlive it: that window is not what this tests.
    let seen = '';
    let polls = 0;
    await until(async () => {
      const now = ffmpegsUnder(jobTmp).sort().join(',');
      polls = now !== '' && now === seen ? polls + 1 : 0;
      seen = now;
      return polls >= 10 ? true : undefined;
    }, 30_000);
    const pid = app.child.pid as number;
    app.child.kill('SIGKILL');
    await app.exited;
    await until(async () => (ffmpegsUnder(jobTmp).length === 0 ? true : undefined), 5_000);
    const leftover = (await readdir(jobTmp)).filter((n) => n.startsWith(`nself-${pid}-`));
    expect(leftover.length).toBeGreaterThan(0);

    const again = startApp({ SHUTDOWN_DEADLINE_MS: '200' });
    await again.address;
    expect((await readdir(jobTmp)).filter((n) => n.startsWith(`nself-${pid}-`))).toEqual([]);
    expect(again.output()).toContain('removed temporary folders of dead worker processes');
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  });

  it('while Redis is down: job reads and queue status answer 503, and SIGTERM still exits within the deadline', async () => {
    const own = await startRedisServer();
    const app = startApp({ REDIS_URL: own.url, SHUTDOWN_DEADLINE_MS: '1000' });
    const address = await app.address;
    const api = jobApi(address, TOKEN);
    const queued = await api.submit('transcode', {
      ...media,
      source: source('uploads/short.mkv'),
      output: output('outage/'),
    });
    await api.settled(queued.body.jobId);
    await own.stop();
    const job = await fetch(`${address}/api/v1/jobs/${queued.body.jobId}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(job.status).toBe(503);
    expect(await job.json()).toMatchObject({ error: 'service_unavailable' });
    const status = await fetch(`${address}/api/v1/queues/status`);
    expect(status.status).toBe(503);
    expect((await fetch(`${address}/health`)).status).toBe(200);

    const started = Date.now();
    app.child.kill('SIGTERM');
    await app.exited;
    // The deadline (1 s) plus the unwind margin (5 s), whatever Redis does.
    expect(Date.now() - started).toBeLessThan(8_000);
    await own.close();
  });
});
