// Files that other people's tools made (a DVD authoring tool, a phone, x264 in AVI and MP4,
// subtitle editors), fetched from the Debian and npm packages that ship them (sample-media's
// `foundMedia`), through the transcode, with every assertion read from the outputs.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_VIDEO_PIXELS, h264Sps, run, runLog, tools } from '@nself-tv/media-tools';
import { type FoundName, foundMedia } from '@nself-tv/sample-media';
import { createFileStorage } from '@nself-tv/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_SEGMENT_PACKETS, parseMasterPlaylist, parseMediaPlaylist } from './hls.js';
import { subtitles } from './subtitles.js';
import { playToEnd } from './test-playback.js';
import { transcode } from './transcode.js';

const FILES = [
  'dvd-pal-4x3.mpg',
  'dvd-pal-16x9.mpg',
  'dvd-ntsc-4x3.mpg',
  'dvd-ntsc-16x9.mpg',
  'hello-720p.mp4',
  'hello-1024x576.avi',
  'vim-subtitles.srt',
  'vim-subtitles.sub',
  'subsrt.ass',
  'subsrt.vtt',
  'latin1-es.srt',
  'cp1256-ar.srt',
  'captions.scc',
  'camera-shutter.oga',
  'hand-clap.wav',
  'empty-sample.wav',
] as const satisfies readonly FoundName[];

let root: string;
const media = (key: string) => join(root, 'media', key);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vp-found-'));
  await mkdir(media('uploads'), { recursive: true });
  const found = foundMedia(FILES);
  for (const name of FILES) await copyFile(found[name], media(`uploads/${name}`));
}, 300_000);
afterAll(() => rm(root, { recursive: true, force: true }));

const ingest = (name: string) =>
  transcode(
    {
      mediaId: name.replace(/\W/g, '-'),
      familyId: 'f',
      source: { bucket: 'media', key: `uploads/${name}` },
      output: { bucket: 'media', prefix: `hls/${name}/` },
    },
    { progress: async () => undefined, signal: new AbortController().signal },
    createFileStorage({ root }),
    { maxVideoPixels: DEFAULT_MAX_VIDEO_PIXELS },
    { chunkSeconds: 0 },
  );

async function variants(masterKey: string) {
  return parseMasterPlaylist(await readFile(media(masterKey), 'utf8')).map((v) => v.attributes);
}

/** The first segment of a rendition's playlist. */
async function firstSegment(playlistKey: string): Promise<string> {
  const list = parseMediaPlaylist(await readFile(media(playlistKey), 'utf8'));
  return join(media(playlistKey), '..', list.segments[0]?.uri ?? 'missing');
}

describe('DVDs as DeVeDe authors them: every line of the picture kept', () => {
  it.each([
    ['dvd-pal-4x3.mpg', ['240p 320x240', '360p 480x360', '480p 640x480', '720p 768x576']],
    ['dvd-pal-16x9.mpg', ['240p 426x240', '360p 640x360', '480p 854x480', '720p 1024x576']],
    ['dvd-ntsc-4x3.mpg', ['240p 320x240', '360p 480x360', '480p 640x480']],
    ['dvd-ntsc-16x9.mpg', ['240p 426x240', '360p 640x360', '480p 854x480']],
  ] as const)('%s: rungs %j, square pixels, plays to the end', async (name, rungs) => {
    const result = await ingest(name);
    expect(result.renditions.map((r) => `${r.name} ${r.width}x${r.height}`)).toEqual(rungs);
    // The PAL picture's 576 lines reach the top rung; the master says so.
    const top = (await variants(result.masterPlaylistKey)).at(-1);
    expect(top?.RESOLUTION).toBe(rungs.at(-1)?.split(' ')[1]);
    const probe = await run(tools.ffprobe, [
      ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,sample_aspect_ratio'],
      ...['-of', 'csv=p=0', await firstSegment(result.renditions.at(-1)?.playlistKey ?? '')],
    ]);
    expect(probe.trim().split('\n')[0]).toBe(`${rungs.at(-1)?.split(' ')[1]?.replace('x', ',')},1:1`);
    expect(result.source.videoCopy.reasons.map((r) => r.code)).toContain('CODEC');
    expect(await playToEnd(media(result.masterPlaylistKey))).toBe('');
  });
});

/** EBU R128 of a stored audio rendition, over its segments joined as ffmpeg reads them. */
async function storedLoudness(playlistKey: string) {
  const list = parseMediaPlaylist(await readFile(media(playlistKey), 'utf8'));
  const joined = join(root, `${playlistKey.replace(/\W/g, '-')}.ts`);
  const parts = await Promise.all(list.segments.map((s) => readFile(join(media(playlistKey), '..', s.uri))));
  await writeFile(joined, Buffer.concat(parts));
  const log = await runLog(
    tools.ffmpeg,
    ['-hide_banner', '-nostats', '-i', joined, '-af', 'ebur128=peak=true', '-f', 'null', '-'],
    { maxChars: 1_000_000, keep: 'tail' },
  );
  const summary = log.slice(log.lastIndexOf('Summary:'));
  return {
    integrated: Number(/I:\s+(-?[\d.]+) LUFS/.exec(summary)?.[1]),
    truePeak: Number(/Peak:\s+(-?[\d.]+) dBFS/.exec(summary)?.[1]),
  };
}

describe('sound as phones and cameras recorded it', () => {
  it.each([
    // A drum kit's hand clap under a still picture: the limiter's aim alone stores it at +1.6 dBTP
    // (resampling and AAC add to a peak in the first milliseconds); measured, it is redone.
    ['hand-clap.wav', 'clap.mkv'],
    // A camera shutter (freedesktop's sound theme): quiet, sharp, within a few tenths of the ceiling.
    ['camera-shutter.oga', 'shutter.mkv'],
    // A phone-like recording whose peaks the limiter alone keeps under.
    ['hello-720p.mp4', 'hello-720p.mp4'],
  ])('%s: stored at the loudness target and under the true-peak ceiling, as measured', async (from, name) => {
    if (from !== name) {
      await run(tools.ffmpeg, [
        ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=gray:s=640x360:r=25:d=1'],
        ...['-i', media(`uploads/${from}`), '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'flac'],
        ...['-shortest', media(`uploads/${name}`)],
      ]);
    }
    const result = await ingest(name);
    const track = result.audioTracks[0];
    expect(track?.levelling?.limited).toBe(true);
    const stored = await storedLoudness(track?.playlistKey ?? '');
    expect(stored.truePeak).toBeLessThanOrEqual(-1);
    expect(track?.levelling?.storedTruePeak).toBeCloseTo(stored.truePeak, 0);
    // The film plays to its end, its sub-second audio rendition read by ffmpeg's HLS reader.
    expect(await playToEnd(media(result.masterPlaylistKey))).toBe('');
  });

  it('a clip whose sound is 44 ms of silence: its one audio segment is read by ffmpeg on its own, and the film plays', async () => {
    await run(tools.ffmpeg, [
      ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=gray:s=640x360:r=25:d=1'],
      ...['-i', media('uploads/empty-sample.wav'), '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'pcm_s16le'],
      media('uploads/empty.mkv'),
    ]);
    const result = await ingest('empty.mkv');
    const playlist = media(result.audioTracks[0]?.playlistKey ?? '');
    // Four MPEG-TS packets as encoded; ffmpeg's HLS reader refuses ten or fewer.
    const probed = await run(tools.ffprobe, [
      ...['-v', 'error', '-show_entries', 'stream=codec_name,channels', '-of', 'csv=p=0', playlist],
    ]);
    expect(probed.trim().split('\n')[0]).toBe('aac,2');
    for (const seg of parseMediaPlaylist(await readFile(playlist, 'utf8')).segments) {
      const bytes = (await readFile(join(playlist, '..', seg.uri))).length;
      expect(bytes / 188).toBeGreaterThanOrEqual(MIN_SEGMENT_PACKETS);
    }
    expect(await playToEnd(media(result.masterPlaylistKey))).toBe('');
  });
});

describe('x264 files as people download them', () => {
  it('1280x720 MP4 without colour tags: copied, CODECS from its SPS, tagged BT.709 like the encoded rungs', async () => {
    const result = await ingest('hello-720p.mp4');
    expect(result.source.videoCopy).toEqual({ copied: true, reasons: [], colourTags: 'bt709' });
    const source = await h264Sps(media('uploads/hello-720p.mp4'), 0);
    expect(source.colour).toBeUndefined();
    const top = (await variants(result.masterPlaylistKey)).at(-1);
    expect(top?.CODECS).toBe(`${source.codec},mp4a.40.2`);
    const copied = await h264Sps(await firstSegment(result.renditions.at(-1)?.playlistKey ?? ''), 0);
    expect(copied.codec).toBe(source.codec);
    expect(copied.colour).toEqual({ primaries: 1, transfer: 1, matrix: 1 });
    for (const r of result.renditions.slice(0, -1)) {
      const encoded = await h264Sps(await firstSegment(r.playlistKey), 0);
      expect(encoded.colour, r.name).toEqual({ primaries: 1, transfer: 1, matrix: 1 });
    }
    expect(await playToEnd(media(result.masterPlaylistKey))).toBe('');
  });

  it('1024x576 in AVI, between two rungs: its own size on top, encoded (AVI gives no timestamps to copy by)', async () => {
    const avi = await ingest('hello-1024x576.avi');
    expect(avi.renditions.map((r) => `${r.name} ${r.width}x${r.height}`)).toEqual([
      '240p 426x240',
      '360p 640x360',
      '480p 854x480',
      '720p 1024x576',
    ]);
    expect(avi.source.videoCopy.reasons.map((r) => r.code)).toEqual(['TIMESTAMPS']);
    expect(await playToEnd(media(avi.masterPlaylistKey))).toBe('');
  });
});

describe('sidecar subtitle files beside a DVD: every one read, the bad ones skipped, the master lists them', () => {
  it('SubRip, MicroDVD at the film’s 29.97 fps, indented ASS, WebVTT with NOTE/STYLE, Latin-1, Windows-1256; SCC and a missing file skipped', async () => {
    const film = await ingest('dvd-ntsc-16x9.mpg');
    const sidecar = (name: string, extra: Record<string, unknown> = {}) => ({
      bucket: 'media',
      key: `uploads/${name}`,
      ...extra,
    });
    const result = await subtitles(
      {
        mediaId: 'dvd',
        familyId: 'f',
        source: { bucket: 'media', key: 'uploads/dvd-ntsc-16x9.mpg' },
        output: { bucket: 'media', prefix: 'hls/dvd-ntsc-16x9.mpg/' },
        masterPlaylist: { bucket: 'media', key: film.masterPlaylistKey },
        sidecars: [
          sidecar('vim-subtitles.srt', { language: 'en' }),
          sidecar('captions.scc', { language: 'en' }),
          sidecar('vim-subtitles.sub', { language: 'en', hearingImpaired: true }),
          sidecar('subsrt.ass', { language: 'es', forced: true }),
          sidecar('subsrt.vtt', { language: 'en' }),
          sidecar('latin1-es.srt', { language: 'es' }),
          sidecar('cp1256-ar.srt', { language: 'ar', charset: 'windows-1256' }),
          sidecar('not-there.srt', { language: 'de' }),
        ],
      },
      { progress: async () => undefined, signal: new AbortController().signal },
      createFileStorage({ root }),
    );
    expect(result.tracks.map((t) => [t.format, t.charset, t.cueCount])).toEqual([
      ['srt', 'utf-8', 8],
      ['microdvd', 'utf-8', 8],
      ['ass', 'utf-8', 1],
      ['webvtt', 'utf-8', 5],
      ['srt', 'windows-1252', expect.any(Number)],
      ['srt', 'windows-1256', expect.any(Number)],
    ]);
    expect(result.skipped).toEqual([
      expect.objectContaining({ sidecarKey: 'uploads/captions.scc', code: 'SIDECAR_UNSUPPORTED_FORMAT' }),
      expect.objectContaining({ sidecarKey: 'uploads/not-there.srt', code: 'SIDECAR_MISSING' }),
    ]);
    const vtt = (i: number) => readFile(media(result.tracks[i]?.key ?? ''), 'utf8');
    // MicroDVD frame 36 at 30000/1001.
    expect(await vtt(1)).toContain('00:00:01.201 --> 00:00:07.207');
    expect(await vtt(4)).toContain('<i>Todo está bien, hijo.</i>');
    expect(await vtt(5)).toContain('كينغ لاندينج');
    const master = await readFile(media(film.masterPlaylistKey), 'utf8');
    const subs = master.split('\n').filter((l) => l.startsWith('#EXT-X-MEDIA:TYPE=SUBTITLES'));
    expect(subs).toHaveLength(6);
    expect(subs[1]).toContain(
      'CHARACTERISTICS="public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound"',
    );
    expect(subs[2]).toContain('FORCED=YES');
    expect(subs.filter((l) => l.includes('FORCED=YES'))).toHaveLength(1);
    expect(await playToEnd(media(film.masterPlaylistKey))).toBe('');
  });
});
