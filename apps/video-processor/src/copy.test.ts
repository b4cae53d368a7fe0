import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_VIDEO_PIXELS, h264Sps, run, tools } from '@nself-tv/media-tools';
import { createFileStorage } from '@nself-tv/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_AUDIO } from './audio.js';
import { parseMasterPlaylist, parseMediaPlaylist } from './hls.js';
import { transcode } from './transcode.js';

// The top rung is the source's own H.264 when every browser plays it as it is, and every other
// rung is cut at the same frames; otherwise the result says why and the ladder is encoded.

const root = await mkdtemp(join(tmpdir(), 'vp-copy-'));
const storage = createFileStorage({ root });
const media = join(root, 'media');
await mkdir(join(media, 'up'), { recursive: true });
afterAll(() => rm(root, { recursive: true, force: true }));

const ff = (...args: string[]) => run(tools.ffmpeg, ['-hide_banner', '-v', 'error', '-y', ...args]);
const probeCsv = (args: string[]) => run(tools.ffprobe, ['-v', 'error', ...args, '-of', 'csv=p=0']);
const ctx = { signal: new AbortController().signal, progress: async () => undefined };

// AUDIO_LOUDNESS off: a levelled stereo rendition is encoded, and these check what is copied.
const audio = { ...DEFAULT_AUDIO, loudness: null };

async function ingest(name: string, file: string, options: { chunkSeconds?: number; copy?: boolean } = {}) {
  const result = await transcode(
    {
      mediaId: name,
      familyId: 'f',
      source: { bucket: 'media', key: `up/${file}` },
      output: { bucket: 'media', prefix: `hls/${name}/` },
    },
    ctx,
    storage,
    { maxVideoPixels: DEFAULT_MAX_VIDEO_PIXELS },
    { chunkSeconds: options.chunkSeconds ?? 8, audio, ...(options.copy === undefined ? {} : { copy: options.copy }) },
  );
  return { result, dir: join(media, 'hls', name) };
}

/** A rung's segments as stored, in order. */
async function segmentsOf(dir: string, rung: string) {
  const list = parseMediaPlaylist(await readFile(join(dir, rung, 'index.m3u8'), 'utf8'));
  return list.segments.map((s) => ({ file: join(dir, rung, s.uri), duration: s.duration }));
}

/** The video packets' sizes and hashes, without what TS packaging adds (parameter sets, delimiters). */
async function videoPacketHashes(file: string, fromMp4: boolean) {
  const out = await run(tools.ffmpeg, [
    ...['-hide_banner', '-v', 'error', '-i', file, '-map', '0:v:0', '-c', 'copy'],
    ...['-bsf:v', `${fromMp4 ? 'h264_mp4toannexb,' : ''}filter_units=remove_types=7|8|9`, '-f', 'framemd5', '-'],
  ]);
  return out
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',').slice(4, 6).join(',').trim());
}

/** PTS (s) and keyframe flag of the first frame (in presentation order) of a segment. */
async function firstFrame(segment: string) {
  const rows = (await probeCsv(['-select_streams', 'v:0', '-show_entries', 'packet=pts_time,flags', segment]))
    .split('\n')
    .filter((l) => /^\d/.test(l))
    .map((l) => l.split(','))
    .sort((a, b) => Number(a[0]) - Number(b[0]));
  return { pts: Number(rows[0]?.[0]), key: (rows[0]?.[1] ?? '').startsWith('K') };
}

/** Pictures with hard cuts between unlike scenes, at times of no pattern: the encoder's scene cuts land off any grid. */
const scenes = (size: string, rate: string, lengths: number[]) => {
  const sources = ['testsrc2', 'mandelbrot', 'smptehdbars', 'rgbtestsrc', 'cellauto'];
  const inputs = lengths.flatMap((d, i) => [
    ...['-t', String(d), '-f', 'lavfi', '-i'],
    `${sources[i % sources.length]}=size=${size}:rate=${rate}`,
  ]);
  const graph = `${lengths.map((_, i) => `[${i}:v]format=yuv420p,setsar=1[v${i}]`).join(';')};${lengths.map((_, i) => `[v${i}]`).join('')}concat=n=${lengths.length}:v=1:a=0[v]`;
  return { inputs, graph, seconds: lengths.reduce((a, b) => a + b, 0) };
};

describe('copying the video that already plays', () => {
  it.each([
    {
      // A phone's: High profile, 30 fps, a keyframe every second, AAC-LC stereo at 48 kHz, MP4.
      name: 'phone',
      file: 'phone.mp4',
      make: async (out: string) =>
        ff(
          ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=14'],
          ...['-f', 'lavfi', '-i', 'sine=frequency=330:duration=14:sample_rate=48000', '-ac', '2'],
          ...['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-g', '30', '-bf', '2'],
          ...['-c:a', 'aac', '-b:a', '96k', '-shortest', out],
        ),
      codec: 'avc1.64001e',
      audioCopied: true,
    },
    {
      // A web download's: Main profile, 23.976 fps, x264's own scene cuts and 250-frame keyframe limit,
      // Matroska (millisecond timestamps), AC-3 audio (encoded, not copied).
      name: 'web',
      file: 'web.mkv',
      make: async (out: string) => {
        const s = scenes('640x360', '24000/1001', [3.3, 5.7, 2.1, 6.9, 4.4]);
        await ff(
          ...s.inputs,
          ...['-f', 'lavfi', '-i', `sine=frequency=220:duration=${s.seconds}:sample_rate=48000`],
          ...['-filter_complex', s.graph, '-map', '[v]', '-map', `${5}:a`],
          ...['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'main', '-c:a', 'ac3', out],
        );
      },
      codec: 'avc1.4d401e',
      audioCopied: false,
    },
    {
      // An old camera's: Constrained Baseline, 29.97 fps, mono AAC-LC.
      name: 'baseline',
      file: 'baseline.mp4',
      make: async (out: string) =>
        ff(
          ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30000/1001:duration=12'],
          ...['-f', 'lavfi', '-i', 'sine=frequency=500:duration=12:sample_rate=44100'],
          ...['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'baseline', '-g', '45'],
          ...['-c:a', 'aac', '-ac', '1', out],
        ),
      // x264's baseline sets constraint_set0 and 1 (0xc0): CODECS says what the SPS says.
      codec: 'avc1.42c01e',
      audioCopied: true,
    },
  ])('$name: the top rung is the source, bit for bit, and every rung is cut at its keyframes', async (c) => {
    const file = join(media, 'up', c.file);
    await c.make(file);
    const { result, dir } = await ingest(c.name, c.file);
    expect(result.source.videoCopy).toEqual({ copied: true, reasons: [], colourTags: 'bt601' });
    const top = result.renditions.at(-1);
    expect(top).toMatchObject({ name: '360p', width: 640, height: 360 });

    // The copied packets are the source's: the same bytes, frame for frame, in the same order.
    const copied = await segmentsOf(dir, '360p');
    const joined = join(root, `${c.name}-joined.ts`);
    await ff('-i', `concat:${copied.map((s) => s.file).join('|')}`, '-map', '0:v', '-c', 'copy', joined);
    const source = await videoPacketHashes(file, c.file.endsWith('.mp4'));
    expect(source.length).toBeGreaterThan(100);
    expect(await videoPacketHashes(joined, false)).toEqual(source);

    // Every rung's segments start with a keyframe at the same time, on the source's keyframes.
    const sourceKeys = (await probeCsv(['-select_streams', 'v:0', '-show_entries', 'packet=pts_time,flags', file]))
      .split('\n')
      .filter((l) => /,K/.test(l))
      .map((l) => Number(l.split(',')[0]));
    const starts: number[][] = [];
    for (const r of result.renditions) {
      const segs = await segmentsOf(dir, r.name);
      const firsts = [];
      for (const s of segs) {
        const f = await firstFrame(s.file);
        expect(f.key, `${r.name} ${s.file}`).toBe(true);
        firsts.push(Math.round(f.pts * 1000));
      }
      starts.push(firsts);
    }
    for (const list of starts) expect(list).toEqual(starts.at(-1));
    const offset = (starts.at(-1)?.[0] ?? 0) / 1000 - (sourceKeys[0] ?? 0);
    for (const t of starts.at(-1) ?? []) {
      expect(sourceKeys.some((k) => Math.abs(k + offset - t / 1000) < 0.002)).toBe(true);
    }
    expect(starts.at(-1)?.length).toBe(result.renditions.at(-1)?.segmentCount);

    // CODECS from the copied stream's own profile and level; BANDWIDTH measured.
    const variants = parseMasterPlaylist(await readFile(join(dir, 'master.m3u8'), 'utf8'));
    expect(variants.at(-1)?.attributes.CODECS).toBe(`${c.codec},mp4a.40.2`);
    // The untagged 360-line source is tagged as the encoded rungs read it (BT.601), in its SPS.
    const sps = await h264Sps(copied[0]?.file ?? '', 0);
    expect(sps.codec).toBe(c.codec);
    expect(sps.colour).toEqual({ primaries: 6, transfer: 6, matrix: 6 });
    expect(Number(variants.at(-1)?.attributes.BANDWIDTH)).toBe(top?.bandwidth);
    expect(result.audioTracks.map((a) => a.copied)).toEqual([c.audioCopied]);
  });

  const refused: [string, string, string[], string][] = [
    ['10-bit H.264', 'ten.mkv', ['-vf', 'format=yuv420p10le', '-profile:v', 'high10'], 'PIXEL_FORMAT'],
    ['an interlaced picture', 'tff.mkv', ['-flags', '+ildct+ilme', '-top', '1', '-field_order', 'tt'], 'INTERLACED'],
    [
      'HDR (PQ, BT.2020)',
      'pq.mkv',
      ['-color_trc', 'smpte2084', '-color_primaries', 'bt2020', '-colorspace', 'bt2020nc'],
      'HDR',
    ],
    ['anamorphic pixels', 'sar.mkv', ['-vf', 'setsar=4/3'], 'ANAMORPHIC'],
    ['keyframes 20 s apart', 'sparse.mkv', ['-g', '500', '-sc_threshold', '0'], 'KEYFRAMES'],
    ['a level above 5.2', 'level.mkv', ['-level', '6.2'], 'LEVEL'],
    ['a variable frame rate', 'vfr.mp4', ['-vf', "select='not(eq(mod(n\\,5)\\,4))'", '-fps_mode', 'vfr'], 'FRAME_RATE'],
    // Hostile timing: a 40 s hole after frame 40 (two clips cut together), a steady rate on either side.
    [
      'timestamps with a hole',
      'hole.mkv',
      ['-vf', 'setpts=PTS+gte(N\\,40)*40/TB', '-fps_mode', 'passthrough'],
      'FRAME_RATE',
    ],
  ];
  it.each(refused)('%s is encoded, and the result says why', async (_label, name, args, code) => {
    const seconds = code === 'KEYFRAMES' ? 26 : 3;
    await ff(
      ...['-f', 'lavfi', '-i', `testsrc2=size=426x240:rate=25:duration=${seconds}`],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', ...args, join(media, 'up', name)],
    );
    const { result, dir } = await ingest(name.replace('.', '-'), name, { chunkSeconds: 0 });
    expect(result.source.videoCopy.copied).toBe(false);
    expect(result.source.videoCopy.reasons.map((r) => r.code)).toContain(code);
    // Encoded: High profile at the rung's own level, two 2 s GOPs a segment.
    const variants = parseMasterPlaylist(await readFile(join(dir, 'master.m3u8'), 'utf8'));
    expect(variants.at(-1)?.attributes.CODECS).toBe('avc1.640020');
    const durations = (await segmentsOf(dir, '240p')).map((s) => s.duration);
    for (const d of durations.slice(0, -1)) expect(d).toBe(4);
  });

  it('a source between two rungs (960x540) is copied as its own size on top, the rungs below encoded', async () => {
    await ff(
      ...['-f', 'lavfi', '-i', 'testsrc2=size=960x540:rate=25:duration=3'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', join(media, 'up', 'qhd.mp4')],
    );
    const { result } = await ingest('qhd', 'qhd.mp4', { chunkSeconds: 0 });
    expect(result.source.videoCopy).toEqual({ copied: true, reasons: [], colourTags: 'bt601' });
    expect(result.renditions.map((r) => `${r.name} ${r.width}x${r.height}`)).toEqual([
      '240p 426x240',
      '360p 640x360',
      '480p 854x480',
      '720p 960x540',
    ]);
  });

  it('a rotated phone video is encoded upright; TRANSCODE_COPY off encodes what could be copied', async () => {
    const raw = join(media, 'up', 'upright.mp4');
    await ff(
      ...['-f', 'lavfi', '-i', 'testsrc2=size=426x240:rate=30:duration=3'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', raw],
    );
    await ff('-i', raw, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', join(media, 'up', 'turned.mp4'));
    const turned = await ingest('turned', 'turned.mp4', { chunkSeconds: 0 });
    expect(turned.result.source.videoCopy.reasons.map((r) => r.code)).toEqual(['ORIENTATION', 'SIZE']);
    expect(turned.result.renditions.at(-1)).toMatchObject({ width: 240, height: 426 });
    const off = await ingest('off', 'upright.mp4', { chunkSeconds: 0, copy: false });
    expect(off.result.source.videoCopy).toEqual({
      copied: false,
      reasons: [{ code: 'DISABLED', detail: 'TRANSCODE_COPY is off' }],
      colourTags: null,
    });
    const on = await ingest('on', 'upright.mp4', { chunkSeconds: 0 });
    expect(on.result.source.videoCopy.copied).toBe(true);
  });
});
