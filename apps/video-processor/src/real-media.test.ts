// The media a self-hosted library is made of (test-corpus.ts), through transcode, subtitles and
// trickplay, with every assertion read from the outputs by ffprobe/ffmpeg.
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_VIDEO_PIXELS, run, runLog, tools } from '@nself-tv/media-tools';
import type { JobResult } from '@nself-tv/queues';
import { createFileStorage } from '@nself-tv/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMasterPlaylist, parseMediaPlaylist } from './hls.js';
import { subtitles } from './subtitles.js';
import { makeCorpus } from './test-corpus.js';
import { playToEnd } from './test-playback.js';
import { transcode } from './transcode.js';
import { trickplay } from './trickplay.js';

let root: string;
let corpus: Record<string, string>;
const storage = () => createFileStorage({ root });
const limits = { maxVideoPixels: DEFAULT_MAX_VIDEO_PIXELS };
const ctx = { progress: async () => undefined, signal: new AbortController().signal };
const media = (key: string) => join(root, 'media', key);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vp-real-'));
  await mkdir(join(root, 'media', 'uploads'), { recursive: true });
  corpus = await makeCorpus(join(root, 'media', 'uploads'));
}, 120_000);
afterAll(() => rm(root, { recursive: true, force: true }));

const ingest = (name: string) =>
  transcode(
    {
      mediaId: name.replace(/\W/g, '-'),
      familyId: 'f',
      source: { bucket: 'media', key: `uploads/${name}` },
      output: { bucket: 'media', prefix: `hls/${name}/` },
    },
    ctx,
    storage(),
    limits,
  );

interface StreamInfo {
  width?: number;
  height?: number;
  sample_aspect_ratio?: string;
  pix_fmt?: string;
  color_primaries?: string;
  color_transfer?: string;
  color_space?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  codec_name?: string;
  codec_type?: string;
  channels?: number;
  side_data_list?: unknown[];
}
async function streams(file: string): Promise<StreamInfo[]> {
  const out = await run(tools.ffprobe, ['-v', 'error', '-show_streams', '-of', 'json', file]);
  return (JSON.parse(out) as { streams: StreamInfo[] }).streams;
}

/** The first segment of each rendition of a transcode result, probed. */
async function rungSegments(result: JobResult<'video:transcode'>) {
  return Promise.all(
    result.renditions.map(async (r) => {
      const playlist = parseMediaPlaylist(await readFile(media(r.playlistKey), 'utf8'));
      const first = join(media(r.playlistKey), '..', playlist.segments[0]?.uri ?? 'missing');
      const video = (await streams(first)).find((s) => s.codec_type === 'video') as StreamInfo;
      return { rendition: r, video, playlist };
    }),
  );
}

/** Counts of idet over a file's first frames. */
async function idet(file: string) {
  const said = await runLog(
    tools.ffmpeg,
    ['-hide_banner', '-nostdin', '-i', file, '-vf', 'idet', '-an', '-f', 'null', '-'],
    { maxChars: 1_000_000, keep: 'tail' },
  );
  const m = /Multi frame detection:\s*TFF:\s*(\d+)\s*BFF:\s*(\d+)\s*Progressive:\s*(\d+)/.exec(said);
  return { tff: Number(m?.[1]), bff: Number(m?.[2]), progressive: Number(m?.[3]) };
}

/** Mean RGB of a small region of a still image, via ffmpeg. */
async function meanColour(file: string, x: number, y: number, w: number, h: number): Promise<number[]> {
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    import('node:child_process').then(({ spawn }) => {
      const child = spawn(tools.ffmpeg, [
        ...['-v', 'error', '-i', file, '-vf', `crop=${w}:${h}:${x}:${y},scale=1:1:flags=area`],
        ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
      ]);
      child.stdout.on('data', (b: Buffer) => chunks.push(b));
      child.once('error', reject);
      child.once('close', () => resolve(Buffer.concat(chunks)));
    });
  });
  return [...raw.subarray(0, 3)];
}

const aspect = (w: number, h: number) => w / h;

/** The first frame of the top rung matches `reference` (same size) in a `size`-pixel square at each corner point. */
async function expectSameCorners(
  reference: string,
  result: JobResult<'video:transcode'>,
  size: number,
  points: readonly (readonly [number, number])[],
) {
  const ours = `${reference}.ours.png`;
  const top = result.renditions.at(-1)?.playlistKey as string;
  await run(tools.ffmpeg, ['-v', 'error', '-y', '-i', media(top), '-frames:v', '1', ours]);
  for (const [x, y] of points) {
    const [a, b] = [await meanColour(reference, x, y, size, size), await meanColour(ours, x, y, size, size)];
    for (let c = 0; c < 3; c++) expect(Math.abs((a[c] ?? 0) - (b[c] ?? 0)), `corner ${x},${y}`).toBeLessThan(40);
  }
}

describe('geometry from what the viewer sees', () => {
  it('phone video (90° display matrix): portrait rungs, the matrix applied and gone', async () => {
    const result = await ingest('phone.mp4');
    expect(result.source).toMatchObject({ width: 1080, height: 1920, codedWidth: 1920, codedHeight: 1080 });
    expect([90, 270]).toContain(result.source.rotation);
    const rungs = await rungSegments(result);
    expect(rungs.map((r) => `${r.video.width}x${r.video.height}`)).toEqual([
      '240x426',
      '360x640',
      '480x854',
      '720x1280',
      '1080x1920',
    ]);
    for (const { video } of rungs) {
      expect(aspect(video.width ?? 0, video.height ?? 1)).toBeCloseTo(1080 / 1920, 1);
      expect(video.side_data_list ?? []).toEqual([]);
    }
    // The picture itself is turned as ffmpeg's own autorotation turns it (the reference players follow).
    const reference = join(root, 'phone-reference.png');
    await run(tools.ffmpeg, ['-v', 'error', '-y', '-i', corpus['phone.mp4'] as string, '-frames:v', '1', reference]);
    await expectSameCorners(reference, result, 80, [
      [20, 20],
      [980, 20],
      [20, 1800],
      [980, 1800],
    ]);
    // Variable frame rate in, constant out at the nominal rate.
    const top0 = rungs.at(-1)?.video as StreamInfo;
    expect(top0.avg_frame_rate).toBe(top0.r_frame_rate);
    expect(result.source.fps).toBeCloseTo(30, 0);
    expect(await playToEnd(media(result.masterPlaylistKey))).toBe('');
  });

  it('a mirrored display matrix (front camera) is mirrored back', async () => {
    const result = await ingest('mirror.mp4');
    expect(result.source).toMatchObject({ hflip: true, rotation: 0, width: 640, height: 360 });
    // The stored pixels are testsrc2 mirrored; what comes out must match testsrc2 itself.
    const reference = join(root, 'mirror-reference.png');
    await run(tools.ffmpeg, [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=640x360:rate=25',
      '-frames:v',
      '1',
      reference,
    ]);
    await expectSameCorners(reference, result, 60, [
      [10, 10],
      [560, 10],
      [10, 290],
    ]);
  });

  it('DVD rip (720x480, SAR 32:27): square-pixel rungs at 16:9, BT.601 converted to BT.709', async () => {
    const result = await ingest('dvd.vob');
    expect(result.source).toMatchObject({ width: 853, height: 480, codedWidth: 720, sampleAspectRatio: 1.1852 });
    const rungs = await rungSegments(result);
    expect(rungs.map((r) => `${r.video.width}x${r.video.height}`)).toEqual(['426x240', '640x360', '854x480']);
    for (const { video } of rungs) {
      expect(Math.abs(aspect(video.width ?? 0, video.height ?? 1) / (16 / 9) - 1)).toBeLessThan(0.01);
      expect(['1:1', undefined]).toContain(video.sample_aspect_ratio);
      expect(video).toMatchObject({ color_primaries: 'bt709', color_transfer: 'bt709', color_space: 'bt709' });
    }
    // The 5.1 AC-3 track becomes one stereo AAC rendition, and is kept as it is beside it.
    const master = await readFile(media(result.masterPlaylistKey), 'utf8');
    const audio = master.split('\n').filter((l) => l.startsWith('#EXT-X-MEDIA:TYPE=AUDIO'));
    expect(audio).toHaveLength(2);
    expect(audio[0]).toMatch(/GROUP-ID="audio",.*CHANNELS="2"/);
    expect(audio[1]).toMatch(/GROUP-ID="audio-mc",.*CHANNELS="6"/);
    expect(result.audioTracks[0]?.surround).toMatchObject({ codec: 'ac-3', channels: 6, copied: true });
    const audioPlaylist = media(result.audioTracks[0]?.playlistKey as string);
    const seg = parseMediaPlaylist(await readFile(audioPlaylist, 'utf8')).segments[0]?.uri as string;
    const [aac] = await streams(join(audioPlaylist, '..', seg));
    expect(aac).toMatchObject({ codec_name: 'aac', channels: 2 });
    expect(result.audioTracks[0]?.sourceChannels).toBe(6);
    expect(await playToEnd(media(result.masterPlaylistKey))).toBe('');
  });

  it('cover art is never the video; odd sizes come out even; a clip shorter than a segment plays', async () => {
    const cover = await ingest('cover.mkv');
    expect(cover.source).toMatchObject({ width: 853, height: 479 });
    for (const r of cover.renditions) {
      expect(r.width % 2).toBe(0);
      expect(r.height % 2).toBe(0);
      expect(Math.abs(aspect(r.width, r.height) / (853 / 479) - 1)).toBeLessThan(0.01);
    }
    expect(await playToEnd(media(cover.masterPlaylistKey))).toBe('');
    const short = await ingest('short.mp4');
    expect(short.durationSeconds).toBeCloseTo(1.5, 0);
    expect(short.renditions.every((r) => r.segmentCount === 1)).toBe(true);
    expect(short.audioTracks).toEqual([]);
    expect(await readFile(media(short.masterPlaylistKey), 'utf8')).not.toContain('AUDIO=');
    expect(await playToEnd(media(short.masterPlaylistKey))).toBe('');
  });
});

describe('colour', () => {
  it.each([
    ['hdr10.mkv', 'smpte2084'],
    ['hlg.mkv', 'arib-std-b67'],
  ])('%s: tone-mapped to 8-bit SDR BT.709 and tagged so', async (name, transfer) => {
    const result = await ingest(name);
    expect(result.source).toMatchObject({ hdr: transfer, bitDepth: 10 });
    for (const { video } of await rungSegments(result)) {
      expect(video).toMatchObject({
        pix_fmt: 'yuv420p',
        color_primaries: 'bt709',
        color_transfer: 'bt709',
        color_space: 'bt709',
      });
    }
    // Not washed out and not black: the still frame's picture has real contrast.
    const still = media(result.stillFrameKey as string);
    const [bright, dark] = [await meanColour(still, 0, 0, 1280, 720), await meanColour(still, 0, 0, 64, 64)];
    expect(Math.max(...bright)).toBeGreaterThan(30);
    expect(Math.min(...dark)).toBeLessThan(250);
    expect(await playToEnd(media(result.masterPlaylistKey))).toBe('');
  });

  it('an SDR source: encoded rungs BT.709; its untagged copied top rung tagged as they read it (BT.601 below 720 lines)', async () => {
    const result = await ingest('film.mkv');
    expect(result.source.hdr).toBeNull();
    expect(result.source.videoCopy.copied).toBe(true);
    expect(result.source.videoCopy.colourTags).toBe('bt601');
    const [source] = (await streams(media('uploads/film.mkv'))).filter((s) => s.codec_type === 'video');
    const tags = (s: StreamInfo | undefined) => [s?.color_primaries, s?.color_transfer, s?.color_space];
    const rungs = await rungSegments(result);
    for (const { video } of rungs.slice(0, -1)) {
      expect(video).toMatchObject({ color_primaries: 'bt709', color_transfer: 'bt709', color_space: 'bt709' });
    }
    // The source says nothing; its copy now says what the encoded rungs were converted from.
    expect(tags(source)).toEqual([undefined, undefined, undefined]);
    expect(tags(rungs.at(-1)?.video)).toEqual(['smpte170m', 'smpte170m', 'smpte170m']);
  });
});

describe('interlaced sources', () => {
  it.each([
    ['broadcast.ts', 'tff', 'from the stream'],
    ['unflagged.avi', 'unknown', 'by idet'],
  ])('%s (field order %s) is deinterlaced, found %s', async (name, fieldOrder) => {
    const before = await idet(corpus[name] as string);
    expect(before.tff + before.bff).toBeGreaterThan(before.progressive);
    const result = await ingest(name);
    expect(result.source).toMatchObject({ fieldOrder, deinterlaced: true });
    const top = result.renditions.at(-1)?.playlistKey as string;
    const after = await idet(media(top));
    expect(after.progressive).toBeGreaterThan(5 * (after.tff + after.bff));
    expect(await playToEnd(media(result.masterPlaylistKey))).toBe('');
  });

  it('a PAL 16:9 broadcast DVD (576i bottom field first, SAR 64:45) is deinterlaced and square-pixel', async () => {
    // Not part of the corpus the code was written against: other field order, SAR and rate.
    const file = media('uploads/pal.mpg');
    await run(tools.ffmpeg, [
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=720x576:rate=50:duration=3'],
      ...['-vf', 'interlace=scan=bff,setfield=bff,setsar=64/45', '-c:v', 'mpeg2video', '-b:v', '5M'],
      ...['-flags', '+ildct+ilme', '-top', '0', '-f', 'vob', file],
    ]);
    const result = await ingest('pal.mpg');
    expect(result.source).toMatchObject({ width: 1024, height: 576, fieldOrder: 'bff', deinterlaced: true, fps: 25 });
    const rungs = await rungSegments(result);
    for (const { video } of rungs) {
      expect(Math.abs(aspect(video.width ?? 0, video.height ?? 1) / (16 / 9) - 1)).toBeLessThan(0.01);
    }
    const after = await idet(media(result.renditions.at(-1)?.playlistKey as string));
    expect(after.progressive).toBeGreaterThan(5 * (after.tff + after.bff));
    expect(await playToEnd(media(result.masterPlaylistKey))).toBe('');
  });

  it('a progressive source is not touched', async () => {
    const result = await ingest('short.mp4');
    expect(result.source).toMatchObject({ fieldOrder: 'progressive', deinterlaced: false });
  });
});

describe('every audio and subtitle track reaches the player', () => {
  it('two audio tracks: one group, languages, one default, stereo AAC once per track; subtitles listed', async () => {
    const result = await ingest('film.mkv');
    const masterText = () => readFile(media(result.masterPlaylistKey), 'utf8');
    // The stereo group; a surround track is also in the `audio-mc` group (see audio.test.ts).
    const audio = (await masterText())
      .split('\n')
      .filter((l) => l.startsWith('#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",'));
    expect(audio).toHaveLength(2);
    expect(audio[0]).toContain('LANGUAGE="en"');
    expect(audio[0]).toContain('NAME="English"');
    expect(audio[0]).toContain('DEFAULT=YES');
    expect(audio[1]).toContain('LANGUAGE="fr"');
    expect(audio[1]).toContain('NAME="Français"');
    expect(audio[1]).toContain('DEFAULT=NO');
    for (const line of audio) expect(line).toMatch(/GROUP-ID="audio".*AUTOSELECT=YES/);
    for (const v of parseMasterPlaylist(await masterText()).filter((v) => v.attributes.AUDIO !== 'audio-mc')) {
      expect(v.attributes.AUDIO).toBe('audio');
      expect(v.attributes.CODECS).toMatch(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
    }
    // Video segments carry no audio: each track is encoded once, not once per rung.
    for (const { rendition } of await rungSegments(result)) {
      const playlist = parseMediaPlaylist(await readFile(media(rendition.playlistKey), 'utf8'));
      const seg = join(media(rendition.playlistKey), '..', playlist.segments[0]?.uri as string);
      expect((await streams(seg)).map((s) => s.codec_type)).toEqual(['video']);
    }
    for (const track of result.audioTracks) {
      const playlist = parseMediaPlaylist(await readFile(media(track.playlistKey), 'utf8'));
      const seg = join(media(track.playlistKey), '..', playlist.segments[0]?.uri as string);
      expect(await streams(seg)).toEqual([expect.objectContaining({ codec_name: 'aac', channels: 2 })]);
    }
    expect(result.audioTracks.map((t) => [t.language, t.default, t.sourceChannels])).toEqual([
      ['en', true, 2],
      ['fr', false, 6],
    ]);

    // The subtitle stage lists its WebVTT tracks in the master, which stays valid throughout.
    const subs = await subtitles(
      {
        mediaId: 'film',
        familyId: 'f',
        source: { bucket: 'media', key: 'uploads/film.mkv' },
        output: { bucket: 'media', prefix: 'hls/film.mkv/subtitles/' },
        masterPlaylist: { bucket: 'media', key: result.masterPlaylistKey },
      },
      ctx,
      storage(),
    );
    expect(subs.tracks).toHaveLength(1);
    const text = await masterText();
    const subtitleLines = text.split('\n').filter((l) => l.startsWith('#EXT-X-MEDIA:TYPE=SUBTITLES'));
    expect(subtitleLines).toHaveLength(1);
    expect(subtitleLines[0]).toMatch(
      /GROUP-ID="subs",LANGUAGE="en",NAME="English",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI="subtitles\/sub_eng_\d+\.m3u8"/,
    );
    for (const v of parseMasterPlaylist(text)) expect(v.attributes.SUBTITLES).toBe('subs');
    const vtt = await readFile(media(subs.tracks[0]?.key as string), 'utf8');
    expect(vtt).toMatch(/^WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:\d+,LOCAL:00:00:00\.\d{3}\n/);
    // The map names the first video frame's real PTS (what players align cues to), read here
    // from the packets of every variant's first segment: all rungs start at the same time.
    const mapped = Number(/MPEGTS:(\d+)/.exec(vtt)?.[1]);
    for (const variant of parseMasterPlaylist(text)) {
      const playlistKey = join(result.masterPlaylistKey, '..', variant.uri);
      const first = parseMediaPlaylist(await readFile(media(playlistKey), 'utf8')).segments[0]?.uri ?? '';
      const pts = await run(tools.ffprobe, [
        '-v',
        'error',
        '-select_streams',
        'v:0',
        '-show_entries',
        'packet=pts',
        '-of',
        'csv=p=0',
        media(join(playlistKey, '..', first)),
      ]);
      const firstPts = Math.min(
        ...pts
          .split('\n')
          .map((l) => Number.parseInt(l, 10))
          .filter(Number.isFinite),
      );
      expect(firstPts).toBeGreaterThan(0);
      expect(mapped).toBe(firstPts);
    }
    expect(vtt).toContain('Hello there.');
    // Running the stage again (a retry) leaves one subtitles group, not two.
    await subtitles(
      {
        mediaId: 'film',
        familyId: 'f',
        source: { bucket: 'media', key: 'uploads/film.mkv' },
        output: { bucket: 'media', prefix: 'hls/film.mkv/subtitles/' },
        masterPlaylist: { bucket: 'media', key: result.masterPlaylistKey },
      },
      ctx,
      storage(),
    );
    expect((await masterText()).split('\n').filter((l) => l.includes('TYPE=SUBTITLES'))).toHaveLength(1);
    expect(await playToEnd(media(result.masterPlaylistKey))).toBe('');
    expect((await stat(media(result.masterPlaylistKey))).size).toBeGreaterThan(0);
  });
});

describe('trickplay sees what the viewer sees', () => {
  it('tiles of a portrait phone video are pillarboxed; a DVD fills its 16:9 tile', async () => {
    const tile = async (name: string) => {
      const result = await trickplay(
        {
          mediaId: 't',
          familyId: 'f',
          source: { bucket: 'media', key: `uploads/${name}` },
          output: { bucket: 'media', prefix: `tp/${name}/` },
          intervalSeconds: 1,
        },
        ctx,
        storage(),
        limits,
      );
      const sheet = media(result.sheets[0]?.key as string);
      // The first tile is 320x180 at the sheet's top left.
      return (x: number, w: number) => meanColour(sheet, x, 0, w, 180).then((rgb) => Math.max(...rgb));
    };
    // 1080x1920 shown in 320x180: a 102x180 picture with 109-pixel black bars either side.
    const phone = await tile('phone.mp4');
    expect(await phone(0, 100)).toBeLessThan(12);
    expect(await phone(220, 100)).toBeLessThan(12);
    expect(await phone(115, 90)).toBeGreaterThan(60);
    // 720x480 at SAR 32:27 is 16:9: no bars at all (red on the left, cyan on the right).
    const dvd = await tile('dvd.vob');
    expect(await dvd(0, 16)).toBeGreaterThan(60);
    expect(await dvd(304, 16)).toBeGreaterThan(60);
  });
});

describe('one decode for the whole ingest', () => {
  it('the transcode also makes the trickplay sheets and sprite frames, as the separate jobs would', async () => {
    const result = await transcode(
      {
        mediaId: 'one-decode',
        familyId: 'f',
        source: { bucket: 'media', key: 'uploads/phone.mp4' },
        output: { bucket: 'media', prefix: 'hls/one-decode/' },
        thumbnails: { trickplayIntervalSeconds: 1, frameIntervalSeconds: 2 },
      },
      ctx,
      storage(),
      limits,
    );
    const separate = await trickplay(
      {
        mediaId: 'one-decode',
        familyId: 'f',
        source: { bucket: 'media', key: 'uploads/phone.mp4' },
        output: { bucket: 'media', prefix: 'tp/separate/' },
        intervalSeconds: 1,
      },
      ctx,
      storage(),
      limits,
    );
    const same = result.trickplay as JobResult<'video:trickplay'>;
    expect(same.vttKey).toBe('hls/one-decode/trickplay/trickplay.vtt');
    expect({ ...same, vttKey: '', sheets: same.sheets.map((s) => ({ ...s, key: '' })) }).toEqual({
      ...separate,
      vttKey: '',
      sheets: separate.sheets.map((s) => ({ ...s, key: '' })),
    });
    const vtt = (k: string) => readFile(media(k), 'utf8').then((t) => t.replaceAll('sprite_', ''));
    expect(await vtt(same.vttKey)).toBe(await vtt(separate.vttKey));
    const [sheet] = await streams(media(same.sheets[0]?.key as string));
    expect(sheet).toMatchObject({ width: 3200, height: 1800 });
    // 4 s at one frame every 2 s: frames at 0 and 2 s, 320x180, upright (pillarboxed portrait).
    expect(result.frames).toMatchObject({ intervalSeconds: 2, width: 320, height: 180 });
    expect(result.frames?.keys).toEqual([
      'hls/one-decode/frames/frame_00000.jpg',
      'hls/one-decode/frames/frame_00001.jpg',
    ]);
    const frame = media(result.frames?.keys[0] as string);
    expect(Math.max(...(await meanColour(frame, 0, 0, 100, 180)))).toBeLessThan(12);
    expect(Math.max(...(await meanColour(frame, 115, 0, 90, 180)))).toBeGreaterThan(60);
  });
});
