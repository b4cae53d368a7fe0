import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_VIDEO_PIXELS, run, tilePosition, tools, vttTime } from '@nself-tv/media-tools';
import { makeBitmapSubtitleSample, makeSample } from '@nself-tv/sample-media';
import { createFileStorage } from '@nself-tv/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifySubtitle, subtitles } from './subtitles.js';
import { trickplay } from './trickplay.js';

const limits = { maxVideoPixels: DEFAULT_MAX_VIDEO_PIXELS };

const root = await mkdtemp(join(tmpdir(), 'vp-tp-'));
const storage = createFileStorage({ root });
const ctx = { signal: new AbortController().signal, progress: async () => undefined };
beforeAll(async () => {
  await mkdir(join(root, 'media', 'uploads'), { recursive: true });
  await makeSample(join(root, 'media', 'uploads'), 'clip', 640, 360, { seconds: 12 });
  await makeSample(join(root, 'media', 'uploads'), 'scope', 960, 400, { seconds: 7, subtitles: false });
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('vtt helpers', () => {
  it('formats times and positions tiles', () => {
    expect(vttTime(0)).toBe('00:00:00.000');
    expect(vttTime(3725.5)).toBe('01:02:05.500');
    const grid = { columns: 10, rows: 10, width: 320, height: 180 };
    expect(tilePosition(0, grid)).toEqual({ sheet: 0, x: 0, y: 0 });
    expect(tilePosition(13, grid)).toEqual({ sheet: 0, x: 960, y: 180 });
    expect(tilePosition(100, grid)).toEqual({ sheet: 1, x: 0, y: 0 });
  });
});

describe('video:trickplay', () => {
  it.each([
    ['12 s every 5 s', 'clip', 5],
    ['12 s every 1 s', 'clip', 1],
    ['7 s of 2.4:1 every 2 s', 'scope', 2],
  ])('%s: ceil(duration / interval) cues, right tiles, last cue ends at the duration', async (_l, name, interval) => {
    const result = await trickplay(
      {
        mediaId: name,
        familyId: 'f',
        source: { bucket: 'media', key: `uploads/${name}.mkv` },
        output: { bucket: 'media', prefix: `tp/${name}-${interval}/` },
        intervalSeconds: interval,
      },
      ctx,
      storage,
      limits,
    );
    const cues = Math.ceil(result.durationSeconds / interval);
    expect(result.thumbnailCount).toBe(cues);
    expect(result.sheets.map((s) => s.key)).toEqual([`tp/${name}-${interval}/sprite_000.jpg`]);
    const vtt = await readFile(join(root, 'media', result.vttKey), 'utf8');
    const blocks = vtt.trim().split('\n\n').slice(1);
    expect(blocks).toHaveLength(cues);
    blocks.forEach((block, i) => {
      const [timing, target] = block.split('\n');
      const [start, end] = (timing ?? '').split(' --> ');
      expect(start).toBe(vttTime(i * interval));
      expect(end).toBe(i === cues - 1 ? vttTime(result.durationSeconds) : vttTime((i + 1) * interval));
      expect(target).toBe(`sprite_000.jpg#xywh=${(i % 10) * 320},${Math.floor(i / 10) * 180},320,180`);
    });
    const size = await run(tools.ffprobe, [
      '-v',
      'error',
      '-show_entries',
      'stream=width,height',
      '-of',
      'csv=p=0',
      join(root, 'media', result.sheets[0]?.key ?? ''),
    ]);
    expect(size.trim()).toBe('3200,1800');
    // The last thumbnail holds a frame (the test pattern), not the black of an empty tile.
    const last = cues - 1;
    const luma = await run(tools.ffmpeg, [
      ...['-v', 'error', '-i', join(root, 'media', result.sheets[0]?.key ?? '')],
      ...['-vf', `crop=64:64:${(last % 10) * 320 + 128}:${Math.floor(last / 10) * 180 + 58},scale=1:1`],
      ...['-f', 'rawvideo', '-pix_fmt', 'gray', '-'],
    ]);
    expect(luma.charCodeAt(0)).toBeGreaterThan(40);
  });
});

describe('video:subtitle', () => {
  it('converts the muxed SRT track to WebVTT with its language, label and cue text', async () => {
    const result = await subtitles(
      {
        mediaId: 'clip',
        familyId: 'f',
        source: { bucket: 'media', key: 'uploads/clip.mkv' },
        output: { bucket: 'media', prefix: 'subs/clip/' },
      },
      ctx,
      storage,
    );
    expect(result.skipped).toEqual([]);
    expect(result.tracks).toEqual([
      {
        key: 'subs/clip/sub_eng_2.vtt',
        language: 'eng',
        label: 'English',
        origin: 'embedded',
        streamIndex: 2,
        cueCount: 2,
        default: false,
        forced: false,
      },
    ]);
    const vtt = await readFile(join(root, 'media', 'subs/clip/sub_eng_2.vtt'), 'utf8');
    expect(vtt.startsWith('WEBVTT')).toBe(true);
    expect(vtt).toMatch(/(00:)?00:01\.000 --> (00:)?00:03\.000\nHello from nself-tv/);
    expect(vtt).toContain('Second cue');
  });

  it('an embedded text track is hostile text too: markup escaped, no cue ended early, times kept', async () => {
    const uploads = join(root, 'media', 'uploads');
    await writeFile(
      join(uploads, 'evil.srt'),
      '1\n00:00:01,000 --> 00:00:02,000\n<script>alert(1)</script> & --> 00:00:09.000\n\n2\n00:00:03,000 --> 00:00:04,000\n<i>fine</i>\n',
    );
    await run(tools.ffmpeg, [
      ...['-v', 'error', '-y', '-i', join(uploads, 'scope.mkv'), '-i', join(uploads, 'evil.srt')],
      ...['-map', '0', '-map', '1', '-c', 'copy', '-c:s', 'srt', '-metadata:s:s:0', 'language=eng'],
      join(uploads, 'evil.mkv'),
    ]);
    const result = await subtitles(
      {
        mediaId: 'evil',
        familyId: 'f',
        source: { bucket: 'media', key: 'uploads/evil.mkv' },
        output: { bucket: 'media', prefix: 'subs/evil/' },
      },
      ctx,
      storage,
    );
    expect(result.tracks.map((t) => t.cueCount)).toEqual([2]);
    const vtt = await readFile(join(root, 'media', result.tracks[0]?.key ?? ''), 'utf8');
    expect(vtt).toContain('00:00:01.000 --> 00:00:02.000\nalert(1) &amp; -&gt; 00:00:09.000\n');
    expect(vtt).toContain('00:00:03.000 --> 00:00:04.000\n<i>fine</i>');
    expect(vtt.match(/-->/g)).toHaveLength(2);
  });

  it('converts sidecar files, and a source without subtitles is a success with an empty list', async () => {
    await writeFile(join(root, 'media', 'uploads', 'side.srt'), '1\n00:00:00,500 --> 00:00:02,000\nOlá\n');
    const result = await subtitles(
      {
        mediaId: 'scope',
        familyId: 'f',
        source: { bucket: 'media', key: 'uploads/scope.mkv' },
        output: { bucket: 'media', prefix: 'subs/scope/' },
        sidecars: [{ bucket: 'media', key: 'uploads/side.srt', language: 'pt-BR' }],
      },
      ctx,
      storage,
    );
    expect(result.tracks).toEqual([
      {
        key: 'subs/scope/sub_pt-BR_sidecar0.vtt',
        language: 'pt-BR',
        label: 'Brazilian Portuguese',
        origin: 'sidecar',
        cueCount: 1,
        forced: false,
        format: 'srt',
        charset: 'utf-8',
      },
    ]);
    const none = await subtitles(
      {
        mediaId: 'scope',
        familyId: 'f',
        source: { bucket: 'media', key: 'uploads/scope.mkv' },
        output: { bucket: 'media', prefix: 'subs/none/' },
      },
      ctx,
      storage,
    );
    expect(none).toEqual({ tracks: [], skipped: [] });
  });

  it('a picture track without a picture gives an empty list plus a skipped entry', async () => {
    await makeBitmapSubtitleSample(join(root, 'media', 'uploads'), 'bluray');
    const result = await subtitles(
      {
        mediaId: 'bluray',
        familyId: 'f',
        source: { bucket: 'media', key: 'uploads/bluray.mkv' },
        output: { bucket: 'media', prefix: 'subs/bluray/' },
      },
      ctx,
      storage,
    );
    expect(result).toEqual({
      tracks: [],
      skipped: [
        {
          streamIndex: 1,
          codec: 'hdmv_pgs_subtitle',
          code: 'OCR_EMPTY',
          reason: 'no picture of the track held text',
        },
      ],
    });
  });

  it('reads PGS, VobSub and DVB by OCR, skips other picture codecs with a code', () => {
    for (const codec of ['dvd_subtitle', 'hdmv_pgs_subtitle', 'dvb_subtitle']) {
      expect(classifySubtitle(codec)).toEqual({ convert: 'ocr' });
    }
    expect(classifySubtitle('xsub')).toEqual({
      convert: false,
      code: 'UNSUPPORTED_CODEC',
      reason: 'unsupported subtitle codec xsub',
    });
    expect(classifySubtitle('subrip')).toEqual({ convert: 'text' });
  });
});
