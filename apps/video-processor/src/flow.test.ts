import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MAX_VIDEO_PIXELS, run, tools } from '@nself-tv/media-tools';
import { createProducer, type IngestState } from '@nself-tv/queues';
import { createRequestConnection, loadRedisConfig, type RedisClient } from '@nself-tv/redis-keys';
import { makeSample } from '@nself-tv/sample-media';
import { createFileStorage, openStorage, storageSettings } from '@nself-tv/storage';
import {
  killAppProcesses,
  type RedisServerHandle,
  startAppProcess,
  startRedisServer,
  startS3Server,
  until,
} from '@nself-tv/test-redis';
import { Job } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseMasterPlaylist, parseMediaPlaylist } from './hls.js';
import { transcode } from './transcode.js';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const TOKEN = 'test-api-token-0123456789';
const SECONDS = 48;
let server: RedisServerHandle;
let mediaRoot: string;
let connection: RedisClient;
let producer: ReturnType<typeof createProducer>;

beforeAll(async () => {
  server = await startRedisServer();
  mediaRoot = await mkdtemp(join(tmpdir(), 'vp-flow-'));
  await mkdir(join(mediaRoot, 'media', 'uploads'), { recursive: true });
  await makeSample(join(mediaRoot, 'media', 'uploads'), 'film', 640, 360, { seconds: SECONDS, subtitles: false });
  connection = createRequestConnection(loadRedisConfig({ REDIS_URL: server.url }));
  producer = createProducer({ connection });
}, 60_000);
afterAll(async () => {
  killAppProcesses();
  await producer.close();
  connection.disconnect();
  await server.close();
  await rm(mediaRoot, { recursive: true, force: true });
});

// A case that fails must not leave its workers to take the next case's chunks.
afterEach(() => killAppProcesses());

const startApp = (env: Record<string, string> = {}) =>
  startAppProcess(main, 'video-processor listening', {
    PORT: '0',
    HOST: '127.0.0.1',
    REDIS_URL: server.url,
    MEDIA_ROOT: mediaRoot,
    API_TOKEN: TOKEN,
    TRANSCODE_CHUNK_SECONDS: '4',
    ...env,
  });

const film = (mediaId: string) => ({
  mediaId,
  familyId: 'f',
  source: { bucket: 'media', key: 'uploads/film.mkv' },
});

async function startIngest(address: string, ingestId: string, mediaId: string) {
  const r = await fetch(`${address}/api/v1/ingests`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ingestId, ...film(mediaId) }),
  });
  expect(r.status).toBe(202);
}

const ingestOf = async (address: string, id: string) =>
  (await (
    await fetch(`${address}/api/v1/ingests/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } })
  ).json()) as IngestState;

/** The ingest once its transcode has ended (nothing here runs the image stages that follow it). */
const transcoded = (address: string, id: string, timeoutMs = 180_000) =>
  until(async () => {
    const s = await ingestOf(address, id);
    const stage = s.stages.find((t) => t.name === 'transcode');
    if (s.status === 'failed') return { status: 'failed', error: s.error, state: s };
    return stage?.status === 'completed' ? { status: 'completed', error: undefined, state: s } : undefined;
  }, timeoutMs);

/** The transcode's parts as BullMQ holds them: key → job. */
async function partsOf(ingestId: string) {
  const queue = producer.queue('video:transcode');
  const parent = await Job.fromId(queue, `${ingestId}-transcode`);
  const { processed = {}, unprocessed = [] } = (await parent?.getDependencies()) ?? {};
  const ids = [...Object.keys(processed), ...unprocessed].map((k) => k.slice(k.lastIndexOf(':') + 1));
  const out = new Map<string, Job>();
  for (const id of ids) {
    const job = await Job.fromId(queue, id);
    if (job) out.set(id.slice(`${ingestId}-transcode-`.length), job);
  }
  return out;
}

/** Segment durations and video packets of every rung, from the master down. */
async function ladderOf(dir: string) {
  const variants = parseMasterPlaylist(await readFile(join(dir, 'master.m3u8'), 'utf8'));
  const out: Record<string, { durations: number[]; packets: number; ended: boolean }> = {};
  for (const v of variants) {
    const playlist = parseMediaPlaylist(await readFile(join(dir, v.uri), 'utf8'));
    let packets = 0;
    for (const seg of playlist.segments) {
      const file = join(dir, dirname(v.uri), seg.uri);
      const n = await run(tools.ffprobe, [
        ...['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=nb_read_packets'],
        ...['-of', 'csv=p=0', file],
      ]);
      packets += Number(n.trim().split(/\s+/)[0]);
    }
    out[v.uri] = { durations: playlist.segments.map((s) => s.duration), packets, ended: playlist.ended };
  }
  return out;
}

describe('a film over every worker', () => {
  it('finishes with a transcode timeout well below one pass of the film; one pass with that timeout fails', async () => {
    // One pass of the whole film, timed here on this machine.
    const started = Date.now();
    await transcode(
      { ...film('one-pass'), output: { bucket: 'media', prefix: 'hls/one-pass/' } },
      { signal: new AbortController().signal, progress: async () => undefined },
      createFileStorage({ root: mediaRoot }),
      { maxVideoPixels: DEFAULT_MAX_VIDEO_PIXELS },
      { chunkSeconds: 0, copy: false },
    );
    const onePassMs = Date.now() - started;
    const timeoutMs = String(Math.round(onePassMs / 2));
    // The whole ladder encoded, as in the one pass timed above (copying would make both far quicker).
    const env = {
      QUEUE_VIDEO_TRANSCODE_TIMEOUT_MS: timeoutMs,
      QUEUE_VIDEO_TRANSCODE_ATTEMPTS: '1',
      TRANSCODE_COPY: 'off',
    };

    const whole = startApp({ ...env, TRANSCODE_CHUNK_SECONDS: '0' });
    const wholeAddress = await whole.address;
    await startIngest(wholeAddress, 'timeout-whole', 'timeout-whole');
    const failed = await transcoded(wholeAddress, 'timeout-whole');
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/timed out/);
    whole.child.kill('SIGTERM');
    expect(await whole.exited).toBe(0);

    const chunked = startApp(env);
    const address = await chunked.address;
    await startIngest(address, 'timeout-chunked', 'timeout-chunked');
    const done = await transcoded(address, 'timeout-chunked');
    expect(done.status, done.error).toBe('completed');
    const parts = await partsOf('timeout-chunked');
    expect(parts.size).toBe(13);
    for (const job of parts.values()) {
      expect((job.finishedOn as number) - (job.processedOn as number)).toBeLessThan(Number(timeoutMs));
    }
    const ladder = await ladderOf(join(mediaRoot, 'media', 'library', 'timeout-chunked'));
    for (const rung of Object.values(ladder)) expect(rung.packets).toBe(SECONDS * 24);
    chunked.child.kill('SIGTERM');
    expect(await chunked.exited).toBe(0);
  }, 300_000);

  it('SIGKILL mid-film: the restarted worker encodes only the unfinished chunks; the output equals an uninterrupted run', async () => {
    // Locks run out quickly, so the killed worker's chunks are found stalled within a few seconds.
    // Copy off: chunks of 4 s (12 and the audio), not the source's ~10 s GOPs (5 and the audio),
    // so several are still to run when the worker is killed after the fifth.
    const env = {
      QUEUE_VIDEO_TRANSCODE_LOCK_DURATION_MS: '2000',
      QUEUE_VIDEO_TRANSCODE_STALLED_INTERVAL_MS: '1000',
      TRANSCODE_COPY: 'off',
    };
    const first = startApp(env);
    const address = await first.address;
    await startIngest(address, 'killed', 'killed');
    await until(async () => {
      const parts = await partsOf('killed');
      const done = [...parts.values()].filter((j) => j.finishedOn).length;
      return done >= 5 ? true : undefined;
    }, 120_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();
    const before = await partsOf('killed');
    const finished = [...before].filter(([, j]) => j.finishedOn).map(([k, j]) => [k, j.processedOn] as const);
    const unfinished = [...before.keys()].filter((k) => !before.get(k)?.finishedOn);
    expect(finished.length).toBeGreaterThanOrEqual(5);
    expect(unfinished.length).toBeGreaterThan(0);

    const second = startApp(env);
    const done = await transcoded(await second.address, 'killed');
    expect(done.status, done.error).toBe('completed');
    const after = await partsOf('killed');
    // Finished chunks were kept: not one was run again.
    for (const [key, processedOn] of finished) expect(after.get(key)?.processedOn, key).toBe(processedOn);
    // Everything else ran on the restarted worker, once.
    const rerun = [...after].filter(([, j]) => (j.processedOn as number) >= killedAt - 100).map(([k]) => k);
    expect(rerun.sort()).toEqual([...unfinished].sort());

    // The same film as a worker that was never interrupted makes.
    await transcode(
      { ...film('uninterrupted'), output: { bucket: 'media', prefix: 'hls/uninterrupted/' } },
      { signal: new AbortController().signal, progress: async () => undefined },
      createFileStorage({ root: mediaRoot }),
      { maxVideoPixels: DEFAULT_MAX_VIDEO_PIXELS },
      { chunkSeconds: 4, copy: false },
    );
    const killed = await ladderOf(join(mediaRoot, 'media', 'library', 'killed'));
    const clean = await ladderOf(join(mediaRoot, 'media', 'hls', 'uninterrupted'));
    expect(killed).toEqual(clean);
    for (const rung of Object.values(killed)) expect(rung.packets).toBe(SECONDS * 24);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 300_000);

  it("fair: after family A queues a library of films, family B's one film starts within about one chunk", async () => {
    const app = startApp();
    const address = await app.address;
    const post = (ingestId: string, familyId: string) =>
      fetch(`${address}/api/v1/ingests`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ingestId, ...film(ingestId), familyId, priority: 'bulk' }),
      }).then((r) => expect(r.status).toBe(202));
    const library = ['lib-1', 'lib-2', 'lib-3', 'lib-4', 'lib-5'];
    for (const id of library) await post(id, 'family-a');
    // A's chunks are running.
    await until(async () => ((await partsOf('lib-1')).size > 0 ? true : undefined), 60_000);
    await until(async () => {
      const done = [...(await partsOf('lib-1')).values()].filter((j) => j.name === 'part' && j.finishedOn);
      return done.length >= 3 ? true : undefined;
    }, 60_000);
    const submitted = Date.now();
    await post('guest', 'family-b');
    const first = await until(async () => (await partsOf('guest')).get('c0000')?.processedOn ?? undefined, 120_000);
    const waited = first - submitted;
    // How long one chunk takes here, while two run at once: the chunks that ran while B waited, under
    // the same load (the machine may be running other suites); else every chunk of A's first film.
    const finished = (await Promise.all(library.map(partsOf)))
      .flatMap((parts) => [...parts])
      .filter(([k, j]) => k.startsWith('c') && j.finishedOn && j.processedOn);
    const during = finished.filter(
      ([, j]) => (j.processedOn as number) < first && (j.finishedOn as number) > submitted,
    );
    const sample = during.length
      ? during
      : [...(await partsOf('lib-1'))].filter(([k, j]) => k.startsWith('c') && j.finishedOn);
    const times = sample.map(([, j]) => (j.finishedOn as number) - (j.processedOn as number)).sort((a, b) => a - b);
    const chunkMs = times[Math.floor(times.length / 2)] as number;
    // A still had most of its library to go: first come, first served would have put B behind all of it.
    const queue = producer.queue('video:transcode');
    for (const id of library.slice(1)) {
      const parent = await Job.fromId(queue, `${id}-transcode`);
      expect(parent?.finishedOn === undefined || (parent.finishedOn as number) > first, id).toBe(true);
    }
    // B's own probe and plan (its transcode job until its first part exists) is work, not waiting: on
    // a loaded machine it is as long as a short test chunk, so it is not charged to the schedule.
    const plan = await Job.fromId(queue, 'guest-transcode');
    const firstPart = (await partsOf('guest')).get('c0000');
    const planMs = Math.max(0, (firstPart?.timestamp ?? 0) - (plan?.processedOn ?? Number.POSITIVE_INFINITY));
    // The chunk a slot was busy with and its audio on the other slot: about one chunk.
    const queued = waited - planMs;
    expect(queued, `B waited ${waited} ms (${planMs} ms its own plan); a chunk takes ${chunkMs} ms`).toBeLessThan(
      2 * chunkMs,
    );
    console.info(
      `fairness: B's first chunk started ${waited} ms after it was submitted (${planMs} ms its own plan); a chunk takes ${chunkMs} ms`,
    );
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
  }, 300_000);

  it('three video-processors on one Redis and one S3 store each encode chunks of the same film, and it plays', async () => {
    const s3 = await startS3Server(['media']);
    try {
      const store = await openStorage(storageSettings.read(s3.env));
      const bytes = await readFile(join(mediaRoot, 'media', 'uploads', 'film.mkv'));
      await store.write({ bucket: 'media', key: 'uploads/film.mkv' }, Readable.from([bytes]));
      const apps = [0, 1, 2].map(() => startApp({ ...s3.env, MEDIA_ROOT: join(mediaRoot, 'unused') }));
      const addresses = await Promise.all(apps.map((a) => a.address));
      await startIngest(addresses[0] as string, 'three-hosts', 'three-hosts');
      const done = await transcoded(addresses[1] as string, 'three-hosts');
      expect(done.status, done.error).toBe('completed');
      const parts = await partsOf('three-hosts');
      const workers = new Set([...parts.values()].map((j) => j.processedBy));
      expect(workers.size).toBe(3);
      const pids = apps.map((a) => a.child.pid);
      for (const w of workers) expect(pids).toContain(Number(String(w).split(':').pop()));

      // Played end to end from what the store holds: every object fetched back, decoded through the master.
      const local = await mkdtemp(join(tmpdir(), 'vp-three-'));
      for (const o of await store.list('media', 'library/three-hosts/')) {
        const file = join(local, o.key.slice('library/three-hosts/'.length));
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, await store.read({ bucket: 'media', key: o.key }));
      }
      const decoded = await run(tools.ffmpeg, [
        ...['-hide_banner', '-v', 'error', '-xerror', '-i', join(local, 'master.m3u8')],
        ...['-map', '0:v:0', '-map', '0:a:0', '-f', 'null', '-progress', 'pipe:1', '-'],
      ]);
      const frames = [...decoded.matchAll(/^frame=(\d+)$/gm)].map((m) => Number(m[1]));
      expect(frames.at(-1)).toBe(SECONDS * 24);
      const ladder = await ladderOf(local);
      for (const rung of Object.values(ladder)) {
        expect(rung.ended).toBe(true);
        expect(rung.packets).toBe(SECONDS * 24);
      }
      await rm(local, { recursive: true, force: true });
      for (const a of apps) a.child.kill('SIGTERM');
      for (const a of apps) expect(await a.exited).toBe(0);
    } finally {
      await s3.close();
    }
  }, 300_000);
});
