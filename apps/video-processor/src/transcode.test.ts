import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_VIDEO_PIXELS, run, tools } from '@nself-tv/media-tools';
import { isFinalFailure } from '@nself-tv/queues';
import { makeSample } from '@nself-tv/sample-media';
import { createFileStorage } from '@nself-tv/storage';
import { RETRY_POLICY } from '@nself-tv/worker-http';
import { afterAll, describe, expect, it } from 'vitest';
import { parseMasterPlaylist, parseMediaPlaylist } from './hls.js';
import { transcode } from './transcode.js';

const limits = { maxVideoPixels: DEFAULT_MAX_VIDEO_PIXELS };

const root = await mkdtemp(join(tmpdir(), 'vp-test-'));
const storage = createFileStorage({ root });
afterAll(() => rm(root, { recursive: true, force: true }));

const job = () => {
  const progress: [number, string | undefined][] = [];
  return {
    progress,
    ctx: {
      signal: new AbortController().signal,
      progress: async (p: number, phase?: string) => void progress.push([p, phase]),
    },
  };
};

async function upload(name: string, width: number, height: number) {
  await mkdir(join(root, 'media', 'uploads'), { recursive: true });
  const file = await makeSample(join(root, 'media', 'uploads'), name, width, height);
  return { bucket: 'media', key: `uploads/${name}.mkv`, file };
}

const keyframeAtStart = async (segment: string) => {
  const out = await run(tools.ffprobe, [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'packet=flags',
    '-read_intervals',
    '%+#1',
    '-of',
    'csv=p=0',
    segment,
  ]);
  return (out.trim().split('\n')[0] ?? '').startsWith('K');
};

describe('video:transcode on real ffmpeg', () => {
  it.each([
    ['16:9', 'wide', 854, 480],
    ['2.4:1', 'scope', 960, 400],
    ['9:16 portrait', 'portrait', 360, 640],
  ])(
    '%s source: HLS ladder that parses, never upscales, keeps the aspect ratio and aligns keyframes',
    async (_label, name, width, height) => {
      const source = await upload(name, width, height);
      const { ctx, progress } = job();
      const result = await transcode(
        {
          mediaId: name,
          familyId: 'f',
          source: { bucket: 'media', key: source.key },
          output: { bucket: 'media', prefix: `hls/${name}/` },
        },
        ctx,
        storage,
        limits,
        // The encoded ladder (the copied top rung has its own tests, copy.test.ts).
        { copy: false },
      );
      expect(result.masterPlaylistKey).toBe(`hls/${name}/master.m3u8`);
      expect(result.durationSeconds).toBeCloseTo(9, 0);
      expect(result.source).toMatchObject({ width, height, hasAudio: true });
      const dir = join(root, 'media', 'hls', name);
      const variants = parseMasterPlaylist(await readFile(join(dir, 'master.m3u8'), 'utf8'));
      expect(variants.length).toBe(result.renditions.length);
      expect(variants.length).toBeGreaterThanOrEqual(2);

      const segmentLists: number[][] = [];
      for (const v of variants) {
        for (const attr of ['BANDWIDTH', 'AVERAGE-BANDWIDTH', 'RESOLUTION', 'CODECS'])
          expect(v.attributes[attr], attr).toBeDefined();
        expect(v.attributes.CODECS).toMatch(/^avc1\.64[0-9a-f]{4},mp4a\.40\.2$/);
        const [w, h] = (v.attributes.RESOLUTION ?? '').split('x').map(Number) as [number, number];
        expect(w).toBeLessThanOrEqual(width);
        expect(h).toBeLessThanOrEqual(height);
        expect(Math.abs(w / h - width / height) / (width / height)).toBeLessThan(0.01);
        const playlist = parseMediaPlaylist(await readFile(join(dir, v.uri), 'utf8'));
        expect(playlist.ended).toBe(true);
        const durations = playlist.segments.map((s) => s.duration);
        for (const d of durations.slice(0, -1)) expect(Math.abs(d - 4)).toBeLessThan(0.1);
        segmentLists.push(durations);
        const folder = join(dir, v.uri, '..');
        for (const seg of playlist.segments) {
          expect(existsSync(join(folder, seg.uri))).toBe(true);
          expect(await keyframeAtStart(join(folder, seg.uri))).toBe(true);
        }
      }
      // The same cut points in every rung: keyframes are aligned across the ladder.
      for (const list of segmentLists) expect(list).toEqual(segmentLists[0]);
      expect(existsSync(join(root, 'media', result.stillFrameKey ?? 'missing'))).toBe(true);
      expect(progress[0]).toEqual([0, 'probe']);
      expect(progress.at(-1)?.[0]).toBe(100);
      expect(progress.filter(([, phase]) => phase === undefined).length).toBeGreaterThan(1);
    },
  );

  it('keeps the 1080p rung of a 1920x800 film', async () => {
    const source = await upload('film', 1920, 800);
    const { ctx } = job();
    const result = await transcode(
      {
        mediaId: 'film',
        familyId: 'f',
        source: { bucket: 'media', key: source.key },
        output: { bucket: 'media', prefix: 'hls/film/' },
        renditions: ['480p', '1080p'],
      },
      ctx,
      storage,
      limits,
    );
    expect(result.renditions.map((r) => `${r.name} ${r.width}x${r.height}`)).toEqual([
      '480p 854x356',
      '1080p 1920x800',
    ]);
  });

  it('capped CRF: a simple moving picture takes far fewer bytes than the fixed rate; pure noise stays under the cap', async () => {
    await mkdir(join(root, 'media', 'rate'), { recursive: true });
    const make = async (name: string, graph: string) => {
      await run(tools.ffmpeg, [
        ...['-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i'],
        graph,
        ...['-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '4', '-an', join(root, 'media', 'rate', `${name}.mkv`)],
      ]);
      return { bucket: 'media', key: `rate/${name}.mkv` };
    };
    const flat = await make('flat', 'testsrc=size=854x480:rate=25:duration=8');
    // Every frame new random pixels: nothing to predict.
    const grain = await make('grain', 'color=c=gray:size=854x480:rate=25:duration=8,noise=alls=60:allf=t+u');
    /** The 480p rung (1400 kbps; capped at 1540 at the fixed rate, at 1330 under capped CRF) of `source` at `crf`: its bytes and x264's own account of its settings. */
    const encode = async (source: { bucket: string; key: string }, label: string, crf: number | null | undefined) => {
      const prefix = `hls/rate-${label}/`;
      const result = await transcode(
        { mediaId: 'rate', familyId: 'f', source, output: { bucket: 'media', prefix }, renditions: ['480p'] },
        job().ctx,
        storage,
        limits,
        { chunkSeconds: 0, copy: false, ...(crf === undefined ? {} : { crf }) },
      );
      // x264 writes its options into the stream (an SEI): what rate control it really ran. Read from
      // the elementary stream, as TS packet headers cut through it in the segment.
      const stream = await run(tools.ffmpeg, [
        ...['-v', 'error', '-i', join(root, 'media', prefix, '480p', 'seg_000.ts')],
        ...['-map', '0:v', '-c', 'copy', '-frames:v', '1', '-f', 'h264', 'pipe:1'],
      ]);
      const options = /x264 - core .*? options: ([ -~]*)/.exec(stream)?.[1] ?? '';
      return { bytes: result.renditions[0]?.bytes ?? 0, seconds: result.durationSeconds, options };
    };
    // The default is capped CRF 21, at 480p three finer (18), capped at the rung's bitrate.
    const flatCrf = await encode(flat, 'flat-crf', undefined);
    const flatFixed = await encode(flat, 'flat-fixed', null);
    expect(flatCrf.options).toMatch(/\brc=crf\b.* crf=18\.0 .*vbv_maxrate=1330 vbv_bufsize=2800/);
    expect(flatFixed.options).toMatch(/\brc=abr\b.* bitrate=1400 .*vbv_maxrate=1540/);
    expect(flatCrf.bytes).toBeLessThan(flatFixed.bytes * 0.8);
    // Near-lossless quality asked of pure noise: the VBV holds it to the cap (TS and a 4 s buffer aside).
    const grainCrf = await encode(grain, 'grain-crf', 4);
    expect(grainCrf.options).toMatch(/ crf=1\.0 /);
    const kbps = (grainCrf.bytes * 8) / grainCrf.seconds / 1000;
    expect(kbps).toBeGreaterThan(1000);
    expect(kbps).toBeLessThan(1400 * 1.15);
  });

  it('fails at once, unrecoverably, for a source without video and for a corrupt file', async () => {
    await mkdir(join(root, 'media', 'bad'), { recursive: true });
    await run(tools.ffmpeg, [
      '-hide_banner',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'sine=duration=2',
      join(root, 'media', 'bad', 'tone.m4a'),
    ]);
    await copyFile(new URL(import.meta.url).pathname, join(root, 'media', 'bad', 'corrupt.mkv'));
    for (const [key, reason] of [
      ['bad/tone.m4a', /no video stream/],
      ['bad/corrupt.mkv', /not a readable media file/],
    ] as const) {
      const error = await transcode(
        {
          mediaId: 'x',
          familyId: 'f',
          source: { bucket: 'media', key },
          output: { bucket: 'media', prefix: 'hls/x/' },
        },
        job().ctx,
        storage,
        limits,
      ).catch((e: Error) => e);
      // Final under the one retry policy, whichever package raised it.
      expect(isFinalFailure(error, RETRY_POLICY), key).toBe(true);
      expect((error as Error).message).toMatch(reason);
    }
  });
});
