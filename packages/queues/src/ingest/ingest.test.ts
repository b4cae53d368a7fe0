import { MediaError } from '@nself-tv/media-tools';
import { useTestRedis } from '@nself-tv/test-redis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PayloadError, type QueueError } from '../errors.js';
import { createProducer } from '../producer.js';
import { createQueueWorker, type QueueWorker } from '../runner/worker.js';
import type { Payload } from '../schemas/registry.js';
import { queueTestKit, retryPolicy, transcodeJob, waitFor } from '../test-helpers.js';
import { createIngestService } from './ingest-service.js';
import { ingestObserver } from './observer.js';
import type { IngestStageName } from './pipeline.js';
import type { IngestState } from './state.js';

const redis = useTestRedis();
const kit = queueTestKit(redis);
const producer = createProducer({ connection: kit.requestConnection(), keyspace: kit.keyspace });
const ingest = createIngestService({ connection: kit.requestConnection(), producer, keyspace: kit.keyspace });

// Gates let a test hold a transcode job in the middle and look at the state.
const gates = new Map<string, { open: () => void; promise: Promise<void>; entered: boolean }>();
const gate = (mediaId: string) => {
  let open = () => {};
  const promise = new Promise<void>((r) => {
    open = r;
  });
  const g = { open, promise, entered: false };
  gates.set(mediaId, g);
  return g;
};

const workers: QueueWorker[] = [];
// What the subtitle stage was asked to do, by media id.
const subtitlePayloads = new Map<string, Payload<'video:subtitle'>>();
const connection = kit.workerConnection();
// The workers report through a service that records each completion, as the apps invalidate cache:recent.
const completions: string[] = [];
const reporting = createIngestService({
  connection: kit.requestConnection(),
  producer,
  keyspace: kit.keyspace,
  onCompleted: async (state) => {
    completions.push(state.ingestId);
  },
});
const common = {
  connection,
  keyspace: kit.keyspace,
  progressIntervalMs: 0,
  retryPolicy,
  observers: [ingestObserver({ ingest: reporting, producer })],
};
workers.push(
  createQueueWorker(
    'video:transcode',
    async (p, ctx) => {
      await ctx.progress(50, 'probe');
      const g = gates.get(p.mediaId);
      if (g) {
        g.entered = true;
        await Promise.race([
          g.promise,
          new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
        ]);
      }
      if (p.mediaId === 'no-video') throw new MediaError('NO_VIDEO', 'source has no video stream');
      await ctx.progress(50);
      return {
        masterPlaylistKey: `${p.output.prefix}master.m3u8`,
        durationSeconds: 12,
        source: {
          width: 1280,
          height: 720,
          codec: 'h264',
          hasAudio: true,
          codedWidth: 1280,
          codedHeight: 720,
          sampleAspectRatio: 1,
          rotation: 0,
          hflip: false,
          vflip: false,
          hdr: null,
          colour: { primaries: 'bt709', transfer: 'bt709', matrix: 'bt709' },
          bitDepth: 8,
          fieldOrder: 'progressive',
          deinterlaced: false,
          fps: 24,
          audioTracks: 1,
          videoCopy: {
            copied: false,
            reasons: [{ code: 'DISABLED', detail: 'TRANSCODE_COPY is off' }],
            colourTags: null,
          },
        },
        audioTracks: [
          {
            name: 'English',
            language: 'en',
            default: true,
            sourceChannels: 2,
            copied: false,
            copyRefusal: 'AUDIO_LOUDNESS levels the stereo rendition',
            loudness: { integrated: -23, range: 6, truePeak: -3 },
            levelling: {
              targetLufs: -18,
              truePeakCeiling: -1,
              gainDb: 5,
              limited: false,
              before: { integrated: -23, range: 6, truePeak: -3 },
            },
            downmix: null,
            surround: null,
            playlistKey: `${p.output.prefix}audio_en_0/index.m3u8`,
          },
        ],
        renditions: [
          {
            name: '720p',
            width: 1280,
            height: 720,
            playlistKey: `${p.output.prefix}720p/index.m3u8`,
            bandwidth: 3_000_000,
            averageBandwidth: 2_500_000,
            videoBitrate: 2_800_000,
            audioBitrate: 128_000,
            segmentCount: 3,
            bytes: 1000,
          },
        ],
        stillFrameKey: `${p.output.prefix}still.jpg`,
      };
    },
    common,
  ),
  createQueueWorker(
    'video:trickplay',
    async (p) => ({
      vttKey: `${p.output.prefix}trickplay.vtt`,
      sheets: [],
      thumbnailCount: 3,
      intervalSeconds: p.intervalSeconds,
      thumbWidth: 320,
      thumbHeight: 180,
      durationSeconds: 12,
    }),
    common,
  ),
  createQueueWorker(
    'video:subtitle',
    async (p) => {
      subtitlePayloads.set(p.mediaId, p);
      return { tracks: [], skipped: [] };
    },
    common,
  ),
  createQueueWorker(
    'image:poster',
    async (p) => {
      if (p.mediaId === 'bad-poster') throw new MediaError('NOT_MEDIA', 'not an image');
      expect(p.source.key).toBe(`hls/${p.mediaId}/still.jpg`);
      return {
        outputs: [{ key: `${p.output.prefix}poster-100w.webp`, width: 100, height: 56, format: 'webp', bytes: 10 }],
      };
    },
    common,
  ),
  createQueueWorker(
    'image:sprite',
    async (p) => ({
      vttKey: `${p.output.prefix}sprites.vtt`,
      sheets: [],
      thumbnailCount: 2,
      thumbWidth: 320,
      thumbHeight: 180,
    }),
    common,
  ),
);
// A failed assertion must not leave a transcode slot held for the next test.
afterEach(() => {
  for (const g of gates.values()) g.open();
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.close(1000)));
  await producer.close();
});

const request = (mediaId: string, extra: Record<string, unknown> = {}) => ({ ...transcodeJob(mediaId), ...extra });
const settled = (id: string) =>
  waitFor(async () => {
    const s = await ingest.get(id);
    return s && ['completed', 'failed', 'cancelled'].includes(s.status) ? s : undefined;
  }, 30_000);
const stageView = (s: IngestState) => Object.fromEntries(s.stages.map((st) => [st.name, st.status]));

describe('ingest pipeline', () => {
  it('returns at once, then runs transcode, the four parallel stages, and completes', async () => {
    const g = gate('movie');
    const started = await ingest.start(request('movie'));
    expect(started.status).toBe('pending');
    expect(started.progress).toBe(10);
    expect((await ingest.get(started.ingestId))?.status).toMatch(/pending|running/);
    expect(stageView(started)).toEqual({
      validate: 'completed',
      probe: 'pending',
      transcode: 'pending',
      trickplay: 'pending',
      subtitles: 'pending',
      posters: 'pending',
      sprites: 'pending',
      database: 'skipped',
      index: 'skipped',
    });
    expect(started.stages.find((s) => s.name === 'probe')?.jobId).toBe(`${started.ingestId}-transcode`);
    const key = `${redis.namespace}:ingest:${started.ingestId}`;
    expect(await redis.client.type(key)).toBe('string');
    expect(await redis.client.ttl(key)).toBeGreaterThan(86_300);

    await waitFor(() => g.entered);
    const mid = await ingest.get(started.ingestId);
    expect(mid?.status).toBe('running');
    expect(stageView(mid as IngestState).probe).toBe('running');
    // validate (5) + the skipped database and index bands (5) + half of probe's 5–10 band.
    expect(mid?.progress).toBe(12.5);
    expect(mid?.playableAt).toBeUndefined();
    g.open();

    const done = await settled(started.ingestId);
    expect(done.status).toBe('completed');
    expect(done.progress).toBe(100);
    // Four stages finished in parallel on different workers: the hook ran once.
    await waitFor(() => completions.includes(started.ingestId));
    expect(completions.filter((id) => id === started.ingestId)).toHaveLength(1);
    expect(stageView(done)).toMatchObject({
      probe: 'completed',
      transcode: 'completed',
      trickplay: 'completed',
      subtitles: 'completed',
      posters: 'completed',
      sprites: 'completed',
    });
    const transcode = done.stages.find((s) => s.name === 'transcode');
    expect(JSON.parse(transcode?.result ?? '{}').stillFrameKey).toBe('hls/movie/still.jpg');
    // The pipeline's playable stage completed (its job never published growing playlists): playable then.
    expect(done.playableAt).toBe(transcode?.finishedAt);
    expect(done.stages.find((s) => s.name === 'posters')?.jobId).toBe(`${started.ingestId}-posters`);
    for (const s of done.stages.filter((st) => st.status === 'completed' && st.name !== 'validate')) {
      expect(s.finishedAt).toBeGreaterThanOrEqual(s.startedAt ?? Number.POSITIVE_INFINITY);
    }
  });

  it('takes sidecar subtitle files, reads language and flags from their names, and hands them to the subtitles stage', async () => {
    const file = (key: string, extra: Record<string, unknown> = {}) => ({ bucket: 'media', key, ...extra });
    const started = await ingest.start(
      request('sidecars', {
        subtitles: [
          file('uploads/film.en.srt'),
          file('uploads/film.fr.forced.srt'),
          file('uploads/film.en.sdh.srt'),
          file('uploads/Film (2001).pt-BR.hi.srt'),
          file('uploads/film.hi.srt'),
          // What the request says wins over the name.
          file('uploads/film.de.forced.srt', { language: 'nl', forced: false, charset: 'windows-1252' }),
          file('uploads/film.srt'),
        ],
      }),
    );
    const expected = [
      file('uploads/film.en.srt', { language: 'en' }),
      file('uploads/film.fr.forced.srt', { language: 'fr', forced: true }),
      file('uploads/film.en.sdh.srt', { language: 'en', hearingImpaired: true }),
      file('uploads/Film (2001).pt-BR.hi.srt', { language: 'pt-BR', hearingImpaired: true }),
      // Alone, `hi` is Hindi.
      file('uploads/film.hi.srt', { language: 'hi' }),
      file('uploads/film.de.forced.srt', { language: 'nl', forced: false, charset: 'windows-1252' }),
      file('uploads/film.srt'),
    ];
    expect(started.subtitles).toEqual(expected);
    expect((await settled(started.ingestId)).status).toBe('completed');
    expect(subtitlePayloads.get('sidecars')?.sidecars).toEqual(expected);
    // Without sidecars the stage's payload has none.
    const plain = await ingest.start(request('no-sidecars'));
    await settled(plain.ingestId);
    expect(subtitlePayloads.get('no-sidecars')?.sidecars).toBeUndefined();
    // A bad entry is refused with the field named, before anything is queued.
    await expect(
      ingest.start(request('bad-sidecar', { subtitles: [file('uploads/x.srt', { charset: 'klingon-8' })] })),
    ).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
  });

  it('is playable from the moment its job says so (growing playlists), once', async () => {
    const g = gate('growing');
    const started = await ingest.start(request('growing'));
    await waitFor(() => g.entered);
    const first = await reporting.markPlayable(started.ingestId);
    expect(first.playableAt).toBeGreaterThanOrEqual(started.createdAt);
    expect(stageView(first).transcode).not.toBe('completed');
    await new Promise((r) => setTimeout(r, 5));
    expect((await reporting.markPlayable(started.ingestId)).playableAt).toBe(first.playableAt);
    g.open();
    const done = await settled(started.ingestId);
    expect(done.status).toBe('completed');
    expect(done.playableAt).toBe(first.playableAt);
    expect(done.playableAt).toBeLessThan(done.stages.find((s) => s.name === 'transcode')?.finishedAt ?? 0);
  });

  it('gives every stage the thumbnail intervals the request asked for', async () => {
    const started = await ingest.start(
      request('intervals', { thumbnails: { trickplayIntervalSeconds: 3, spriteIntervalSeconds: 15 } }),
    );
    expect((await settled(started.ingestId)).status).toBe('completed');
    const dataOf = async (queue: 'video:transcode' | 'video:trickplay' | 'image:sprite', stage: IngestStageName) =>
      (await producer.queue(queue).getJob(ingest.jobIdFor(started.ingestId, stage)))?.data;
    expect((await dataOf('video:transcode', 'transcode')).thumbnails).toEqual({
      trickplayIntervalSeconds: 3,
      frameIntervalSeconds: 15,
    });
    // The fake transcode made no frames, so both stages decode the source themselves.
    expect((await dataOf('video:trickplay', 'trickplay')).intervalSeconds).toBe(3);
    expect((await dataOf('image:sprite', 'sprites')).intervalSeconds).toBe(15);
  });

  it('records a non-fatal failure (posters) and still completes', async () => {
    const { ingestId } = await ingest.start(request('bad-poster'));
    const done = await settled(ingestId);
    expect(done.status).toBe('completed');
    const posters = done.stages.find((s) => s.name === 'posters');
    expect(posters).toMatchObject({ status: 'failed', error: 'not an image' });
    expect(done.error).toBeUndefined();
  });

  it('fails the ingest on a fatal failure (no video) and starts no parallel stage', async () => {
    const { ingestId } = await ingest.start(request('no-video'));
    const done = await settled(ingestId);
    expect(done.status).toBe('failed');
    expect(done.error).toBe('probe: source has no video stream');
    // The failure's stable code, on the ingest and its stage: callers never parse the message.
    expect(done.code).toBe('NO_VIDEO');
    expect(done.stages.find((s) => s.name === 'probe')).toMatchObject({ status: 'failed', code: 'NO_VIDEO' });
    // What will never run says so, instead of waiting as `pending` for ever.
    expect(stageView(done)).toEqual({
      validate: 'completed',
      probe: 'failed',
      transcode: 'skipped',
      trickplay: 'skipped',
      subtitles: 'skipped',
      posters: 'skipped',
      sprites: 'skipped',
      database: 'skipped',
      index: 'skipped',
    });
    expect(done.stages.find((s) => s.name === 'transcode')?.error).toBe('not run: probe failed');
    expect(await redis.client.exists(kit.keyspace.queueKey('video:trickplay', `${ingestId}-trickplay`))).toBe(0);
    expect(completions).not.toContain(ingestId);
  });

  it('waits for external stages and completes when they are set', async () => {
    const { ingestId } = await ingest.start(request('with-db', { externalStages: ['database', 'index'] }));
    const afterWorkers = await waitFor(async () => {
      const s = await ingest.get(ingestId);
      return s?.stages.find((st) => st.name === 'sprites')?.status === 'completed' &&
        s.stages.find((st) => st.name === 'posters')?.status === 'completed'
        ? s
        : undefined;
    });
    expect(afterWorkers.status).toBe('running');
    expect(afterWorkers.progress).toBe(95);
    await ingest.setExternalStage(ingestId, 'database', { status: 'completed' });
    const final = await ingest.setExternalStage(ingestId, 'index', { status: 'completed' });
    expect(final.status).toBe('completed');
    expect(final.progress).toBe(100);
  });

  it('a fatal external stage failure fails the ingest', async () => {
    const { ingestId } = await ingest.start(request('db-fails', { externalStages: ['database'] }));
    // Everything but the database stage (95–98) has ended.
    await waitFor(async () => (await ingest.get(ingestId))?.progress === 97 || undefined);
    const final = await ingest.setExternalStage(ingestId, 'database', {
      status: 'failed',
      error: 'constraint violation',
    });
    expect(final).toMatchObject({ status: 'failed', error: 'database: constraint violation' });
  });

  it('cancel: marks it cancelled, aborts the running transcode and enqueues nothing after it', async () => {
    const g = gate('cancelled');
    const { ingestId } = await ingest.start(request('cancelled'));
    await waitFor(() => g.entered);
    const state = await ingest.cancel(ingestId);
    expect(state.status).toBe('cancelled');
    // The worker learns of it on its next report; open the gate so it reports.
    g.open();
    const jobKey = `${ingestId}-transcode`;
    const transcodeQueue = producer.queue('video:transcode');
    await waitFor(async () => (await (await transcodeQueue.getJob(jobKey))?.getState()) === 'failed');
    expect((await transcodeQueue.getJob(jobKey))?.failedReason).toMatch(/cancelled/);
    expect((await ingest.get(ingestId))?.status).toBe('cancelled');
    expect(await redis.client.exists(kit.keyspace.queueKey('video:trickplay', `${ingestId}-trickplay`))).toBe(0);
  });

  it('cancel removes a job that has not started', async () => {
    // Transcode concurrency is 2: hold both slots so the third ingest's job waits.
    const holds = [gate('hold-1'), gate('hold-2')];
    await ingest.start(request('hold-1'));
    await ingest.start(request('hold-2'));
    await waitFor(() => holds.every((h) => h.entered));
    const { ingestId } = await ingest.start(request('queued'));
    const jobKey = `${ingestId}-transcode`;
    const transcodeQueue = producer.queue('video:transcode');
    // Ingests carry a priority (their place in the chunk schedule), so it waits among the prioritized.
    expect(await (await transcodeQueue.getJob(jobKey))?.getState()).toBe('prioritized');
    const state = await ingest.cancel(ingestId);
    expect(state.status).toBe('cancelled');
    expect(await transcodeQueue.getJob(jobKey)).toBeUndefined();
    for (const h of holds) h.open();
  });

  it('rejects a bad request without writing anything, and unknown ids', async () => {
    const error = await ingest
      .start(request('x', { source: { bucket: 'media', key: '../x' } }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadError);
    expect((error as PayloadError).field).toBe('source.key');
    expect(await ingest.get('does-not-exist')).toBeUndefined();
    const missing = await ingest.cancel('does-not-exist').catch((e: unknown) => e);
    expect((missing as QueueError).code).toBe('INGEST_NOT_FOUND');
  });

  it('starting the same ingest id twice makes one ingest', async () => {
    const a = await ingest.start(request('twice', { ingestId: 'ingest-twice' }));
    const b = await ingest.start(request('twice', { ingestId: 'ingest-twice' }));
    expect(b.ingestId).toBe(a.ingestId);
    expect((await settled('ingest-twice')).status).toBe('completed');
  });
});
