import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_VIDEO_PIXELS, run, tools } from '@nself-tv/media-tools';
import { createFileStorage } from '@nself-tv/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planChunks } from './chunks.js';
import { parseMasterPlaylist, parseMediaPlaylist } from './hls.js';
import { transcode } from './transcode.js';

const limits = { maxVideoPixels: DEFAULT_MAX_VIDEO_PIXELS };
const ff = (...args: string[]) => run(tools.ffmpeg, ['-hide_banner', '-v', 'error', '-y', ...args]);
let root: string;
let storage: ReturnType<typeof createFileStorage>;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vp-chunks-'));
  storage = createFileStorage({ root });
  const uploads = join(root, 'media', 'uploads');
  await mkdir(uploads, { recursive: true });
  const motion = (size: string, rate: string, seconds: number) => [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${size}:rate=${rate}:duration=${seconds},noise=alls=12:allf=t`,
  ];
  const tone = (seconds: number) => ['-f', 'lavfi', '-i', `sine=frequency=330:duration=${seconds}:sample_rate=48000`];
  // A film as an MP4 gives it: 23.976 fps, B-frames, a keyframe every 5 s, AAC. Short sources and
  // 4 s chunks: what is tested is the joins, and 16 s gives three of them.
  await ff(
    ...motion('854x480', '24000/1001', 16),
    ...tone(16),
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '3', '-g', '120', '-keyint_min', '120', '-sc_threshold', '0'],
    ...['-c:a', 'aac', '-shortest', join(uploads, 'film.mp4')],
  );
  // A broadcast recording: 29.97i MPEG-2 (two 59.94 fps pictures woven into each frame) in a transport stream that starts at 1.4 s (bwdif keeps state across frames).
  await ff(
    ...motion('720x480', '60000/1001', 14),
    ...tone(14),
    ...[
      '-vf',
      'interlace=scan=tff,setfield=tff',
      '-c:v',
      'mpeg2video',
      '-flags',
      '+ilme+ildct',
      '-top',
      '1',
      '-b:v',
      '4M',
    ],
    ...['-c:a', 'mp2', '-shortest', '-f', 'mpegts', join(uploads, 'broadcast.ts')],
  );
  // A phone clip: 30 fps with every seventh frame missing (variable frame rate).
  await ff(
    ...motion('640x360', '30', 14),
    ...tone(14),
    ...['-vf', "select='not(eq(mod(n\\,7)\\,6))'", '-vsync', 'vfr', '-c:v', 'libx264', '-preset', 'ultrafast'],
    ...['-c:a', 'aac', '-shortest', join(uploads, 'phone.mp4')],
  );
}, 120_000);
afterAll(() => rm(root, { recursive: true, force: true }));

const ctx = { signal: new AbortController().signal, progress: async () => undefined };

interface Packet {
  pts: number;
  dts: number;
  key: boolean;
}

/** Every packet of one stream type of a segment, in file order. */
async function packets(file: string, stream: 'v' | 'a'): Promise<Packet[]> {
  const out = await run(tools.ffprobe, [
    ...[
      '-v',
      'error',
      '-select_streams',
      `${stream}:0`,
      '-show_entries',
      'packet=pts,dts,flags',
      '-of',
      'csv=p=0',
      file,
    ],
  ]);
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [pts, dts, flags] = l.split(',');
      return { pts: Number(pts), dts: Number(dts), key: (flags ?? '').startsWith('K') };
    });
}

/** A rendition's segments: durations from its playlist, packets from the files. */
async function rendition(dir: string, uri: string, stream: 'v' | 'a') {
  const text = await readFile(join(dir, uri), 'utf8');
  const playlist = parseMediaPlaylist(text);
  const folder = join(dir, uri, '..');
  const segments = [];
  for (const seg of playlist.segments) segments.push(await packets(join(folder, seg.uri), stream));
  return { text, durations: playlist.segments.map((s) => s.duration), segments };
}

async function encode(name: string, source: string, chunkSeconds: number) {
  const result = await transcode(
    {
      mediaId: name,
      familyId: 'f',
      source: { bucket: 'media', key: `uploads/${source}` },
      output: { bucket: 'media', prefix: `hls/${name}/` },
    },
    ctx,
    storage,
    limits,
    { chunkSeconds },
  );
  return { result, dir: join(root, 'media', 'hls', name) };
}

describe('a film in chunks is the film a single pass makes', () => {
  it.each([
    ['film.mp4', 24000 / 1001, true],
    ['broadcast.ts', 30000 / 1001, false],
    ['phone.mp4', 30, false],
  ])(
    '%s: same segments, every frame once, PTS/DTS running on across joins, keyframes aligned on every rung',
    async (source, fps, everySourceFrame) => {
      const base = source.replace('.', '-');
      const whole = await encode(`${base}-whole`, source, 600);
      const chunked = await encode(`${base}-chunked`, source, 4);
      const chunkCount = planChunks(whole.result.durationSeconds, whole.result.source.fps, 4).length;
      // A constant-rate source's frames, each of which the ladder keeps.
      const expectedFrames = everySourceFrame
        ? (await packets(join(root, 'media', 'uploads', source), 'v')).length
        : null;
      expect(chunkCount).toBeGreaterThanOrEqual(3);
      expect(whole.result.source.fps).toBeCloseTo(fps, 3);

      const variants = parseMasterPlaylist(await readFile(join(chunked.dir, 'master.m3u8'), 'utf8'));
      expect(variants.length).toBeGreaterThanOrEqual(2);
      const frameTicks = 90_000 / fps;
      const firstPts: number[][] = [];
      for (const v of variants) {
        const a = await rendition(whole.dir, v.uri, 'v');
        const b = await rendition(chunked.dir, v.uri, 'v');
        expect(b.text).not.toContain('#EXT-X-DISCONTINUITY');
        expect(b.durations).toEqual(a.durations);
        expect(b.segments.map((s) => s.length)).toEqual(a.segments.map((s) => s.length));
        const all = b.segments.flat();
        if (expectedFrames !== null) expect(all.length).toBe(expectedFrames);
        // Every segment opens on a keyframe; DTS only grows; the frames, in display order, are one frame apart.
        for (const seg of b.segments) expect(seg[0]?.key).toBe(true);
        for (let i = 1; i < all.length; i++) expect(all[i]?.dts).toBeGreaterThan(all[i - 1]?.dts as number);
        const shown = all.map((p) => p.pts).sort((x, y) => x - y);
        for (let i = 1; i < shown.length; i++) {
          expect(Math.abs((shown[i] as number) - (shown[i - 1] as number) - frameTicks)).toBeLessThanOrEqual(1);
        }
        // The same timeline as the single pass, frame for frame.
        expect(shown).toEqual(
          a.segments
            .flat()
            .map((p) => p.pts)
            .sort((x, y) => x - y),
        );
        firstPts.push(b.segments.map((s) => Math.min(...s.map((p) => p.pts))));
      }
      // Read in a row as a player does, through the master: no packet is corrupt, every frame decodes.
      await run(tools.ffmpeg, [
        ...['-hide_banner', '-v', 'error', '-xerror', '-i', join(chunked.dir, 'master.m3u8')],
        ...['-map', '0:v:0', '-map', '0:a:0', '-f', 'null', '-'],
      ]);
      // Every rung's segment i starts at the same instant, so a player can switch at any segment.
      for (const list of firstPts.slice(1)) expect(list).toEqual(firstPts[0]);

      // The audio is one part over the whole film: one timeline, no gap or overlap between segments.
      const audioUri = chunked.result.audioTracks[0]?.playlistKey.replace(`hls/${base}-chunked/`, '') as string;
      const audio = await rendition(chunked.dir, audioUri, 'a');
      const audioPts = audio.segments.flat().map((p) => p.pts);
      const step = (audioPts[1] as number) - (audioPts[0] as number);
      for (let i = 1; i < audioPts.length; i++)
        expect((audioPts[i] as number) - (audioPts[i - 1] as number)).toBe(step);
      // Sound and picture start together, within one audio frame.
      expect(Math.abs((audioPts[0] as number) - (firstPts[0]?.[0] as number))).toBeLessThan(step + frameTicks);
    },
    240_000,
  );
});
