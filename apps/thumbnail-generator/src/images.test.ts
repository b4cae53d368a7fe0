import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_VIDEO_PIXELS, run, tools } from '@nself-tv/media-tools';
import { isFinalFailure, MAX_THUMBNAILS, parsePayload } from '@nself-tv/queues';
import { makeSample } from '@nself-tv/sample-media';
import { createFileStorage, type MediaStorage } from '@nself-tv/storage';
import { RETRY_POLICY } from '@nself-tv/worker-http';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_IMAGE_LIMITS } from './image-input.js';
import { optimize } from './optimize.js';
import { poster } from './poster.js';
import { sprite } from './sprite.js';
import { alphaPng, hugeDeclaredPng, noisyImage, onePixelPng, sidewaysJpeg, truncated } from './test-images.js';

let root: string;
let storage: MediaStorage;
const bucket = 'media';
const limits = { ...DEFAULT_IMAGE_LIMITS, maxVideoPixels: DEFAULT_MAX_VIDEO_PIXELS };

function job() {
  const progress: number[] = [];
  return { progress: async (p: number) => void progress.push(p), signal: new AbortController().signal, seen: progress };
}
const put = async (key: string, bytes: Buffer) => {
  await storage.write({ bucket, key }, bytes);
  return { bucket, key };
};
const pixel = async (bytes: Buffer, x: number, y: number) => {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [...data.subarray(i, i + info.channels)];
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'thumbs-'));
  storage = createFileStorage({ root });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('image:poster', () => {
  it('applies EXIF orientation, strips metadata and writes poster-<w>w.webp at the default widths', async () => {
    const source = await put('in/sideways.jpg', await sidewaysJpeg());
    const payload = parsePayload('image:poster', {
      mediaId: 'm1',
      familyId: 'f1',
      source,
      output: { bucket, prefix: 'posters/m1' },
    });
    const run = job();
    const result = await poster(payload, run, storage, limits);

    expect(result.outputs.map((o) => [o.key, o.width, o.height, o.format])).toEqual([
      ['posters/m1/poster-100w.webp', 100, 150, 'webp'],
      ['posters/m1/poster-400w.webp', 400, 600, 'webp'],
      // The source displays as 400x600: never enlarged, same name.
      ['posters/m1/poster-1200w.webp', 400, 600, 'webp'],
    ]);
    expect(run.seen.at(-1)).toBe(100);
    for (const output of result.outputs) {
      const bytes = await storage.read({ bucket, key: output.key });
      expect(bytes.length).toBe(output.bytes);
      const meta = await sharp(bytes).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['webp', output.width, output.height]);
      expect(meta.orientation).toBeUndefined();
      expect(meta.exif).toBeUndefined();
    }
    const big = await storage.read({ bucket, key: 'posters/m1/poster-400w.webp' });
    const [top, bottom] = [await pixel(big, 200, 20), await pixel(big, 200, 580)];
    expect(top[0]).toBeGreaterThan(180); // red on top
    expect(bottom[2]).toBeGreaterThan(180); // blue below
  });

  it('writes AVIF and JPEG on request and keeps alpha only where the format can', async () => {
    const source = await put('in/alpha.png', await alphaPng());
    const payload = parsePayload('image:poster', {
      mediaId: 'm2',
      familyId: 'f1',
      source,
      output: { bucket, prefix: 'posters/m2/' },
      widths: [400],
      formats: ['webp', 'avif', 'jpeg'],
    });
    const result = await poster(payload, job(), storage, limits);
    expect(result.outputs.map((o) => [o.key, o.width, o.height, o.format])).toEqual([
      ['posters/m2/poster-400w.webp', 400, 240, 'webp'],
      ['posters/m2/poster-400w.avif', 400, 240, 'avif'],
      ['posters/m2/poster-400w.jpg', 400, 240, 'jpeg'],
    ]);
    const webp = await storage.read({ bucket, key: 'posters/m2/poster-400w.webp' });
    expect((await sharp(webp).metadata()).hasAlpha).toBe(true);
    expect((await pixel(webp, 390, 100))[3]).toBe(0);
    const avif = await storage.read({ bucket, key: 'posters/m2/poster-400w.avif' });
    expect((await sharp(avif).metadata()).format).toBe('heif');
    const jpeg = await storage.read({ bucket, key: 'posters/m2/poster-400w.jpg' });
    expect((await sharp(jpeg).metadata()).hasAlpha).toBe(false);
    expect(await pixel(jpeg, 390, 100)).toEqual([0, 0, 0]);
  });

  it('turns a 1x1 source into 1x1 posters under every requested name', async () => {
    const source = await put('in/one.png', await onePixelPng());
    const payload = parsePayload('image:poster', {
      mediaId: 'm3',
      familyId: 'f1',
      source,
      output: { bucket, prefix: 'p3' },
    });
    const result = await poster(payload, job(), storage, limits);
    expect(result.outputs.map((o) => [o.key, o.width, o.height])).toEqual([
      ['p3/poster-100w.webp', 1, 1],
      ['p3/poster-400w.webp', 1, 1],
      ['p3/poster-1200w.webp', 1, 1],
    ]);
  });
});

describe('image:optimize', () => {
  it('re-encodes a photo as mozjpeg and reports the savings', async () => {
    const original = await noisyImage(800, 600, 'png');
    const source = await put('in/photo.png', original);
    const output = { bucket, key: 'out/photo.jpg' };
    const result = await optimize(
      parsePayload('image:optimize', { source, output, format: 'jpeg' }),
      job(),
      storage,
      limits,
    );
    const written = await storage.read(output);
    expect(result).toEqual({
      key: 'out/photo.jpg',
      format: 'jpeg',
      originalBytes: original.length,
      optimizedBytes: written.length,
      savingsPercent: Math.round((1 - written.length / original.length) * 1000) / 10,
      keptOriginal: false,
    });
    expect(written.length).toBeLessThan(original.length);
    expect((await sharp(written).metadata()).format).toBe('jpeg');
  });

  it('rotates by EXIF and strips metadata for every format', async () => {
    const source = await put('in/sideways-opt.jpg', await sidewaysJpeg());
    for (const format of ['webp', 'jpeg', 'png', 'avif'] as const) {
      const output = { bucket, key: `out/sideways.${format}` };
      await optimize(parsePayload('image:optimize', { source, output, format, force: true }), job(), storage, limits);
      const meta = await sharp(await storage.read(output)).metadata();
      expect([meta.width, meta.height, meta.orientation, meta.exif]).toEqual([400, 600, undefined, undefined]);
    }
  });

  it('keeps the source bytes when the new format would be larger, unless forced', async () => {
    const tiny = await onePixelPng();
    const source = await put('in/tiny.png', tiny);
    const output = { bucket, key: 'out/tiny.avif' };
    const kept = await optimize(
      parsePayload('image:optimize', { source, output, format: 'avif' }),
      job(),
      storage,
      limits,
    );
    expect(kept).toMatchObject({ format: 'png', keptOriginal: true, optimizedBytes: tiny.length, savingsPercent: 0 });
    expect(await storage.read(output)).toEqual(tiny);

    const forced = await optimize(
      parsePayload('image:optimize', { source, output, format: 'avif', force: true }),
      job(),
      storage,
      limits,
    );
    expect(forced.keptOriginal).toBe(false);
    expect(forced.optimizedBytes).toBeGreaterThan(tiny.length);
    expect(forced.savingsPercent).toBeLessThan(0);
    expect((await sharp(await storage.read(output)).metadata()).format).toBe('heif');
  });
});

describe('image:sprite', () => {
  it('builds sheets from timed images: letterboxed tiles, a partial last sheet sized to its content, the VTT', async () => {
    const wide = await put('frames/wide.png', await noisyImage(640, 200, 'png'));
    const tall = await put('frames/tall.jpg', await sidewaysJpeg());
    // 7 images on 2x2 sheets: 4 + 3, the second sheet 2 columns x 2 rows.
    const images = Array.from({ length: 7 }, (_, i) => ({ ...(i % 2 ? tall : wide), timestamp: (6 - i) * 10 }));
    const payload = parsePayload('image:sprite', {
      mediaId: 'm4',
      familyId: 'f1',
      output: { bucket, prefix: 'sprites/m4' },
      images,
      columns: 2,
      rows: 2,
    });
    const result = await sprite(payload, job(), storage, limits);
    expect(result.thumbnailCount).toBe(7);
    expect(
      result.sheets.map((s) => [s.key, s.firstThumbnail, s.lastThumbnail, s.columns, s.rows, s.width, s.height]),
    ).toEqual([
      ['sprites/m4/sprite_000.jpg', 0, 3, 2, 2, 640, 360],
      ['sprites/m4/sprite_001.jpg', 4, 6, 2, 2, 640, 360],
    ]);
    const sheet0 = await storage.read({ bucket, key: 'sprites/m4/sprite_000.jpg' });
    expect(await sharp(sheet0).metadata()).toMatchObject({ format: 'jpeg', width: 640, height: 360 });
    // Sorted by time, the first tile is the last image given (wide): 640x200 → 320x100 with bars above and below.
    const [bar, picture] = [await pixel(sheet0, 160, 10), await pixel(sheet0, 160, 90)];
    expect(Math.max(...bar)).toBeLessThan(30);
    expect(Math.max(...picture)).toBeGreaterThan(60);
    // The second tile is the sideways JPEG shown upright (400x600 → 120x180): bars left and right, red on top.
    expect(Math.max(...(await pixel(sheet0, 330, 90)))).toBeLessThan(30);
    expect((await pixel(sheet0, 480, 30))[0]).toBeGreaterThan(150);

    const vtt = (await storage.read({ bucket, key: result.vttKey })).toString();
    expect(result.vttKey).toBe('sprites/m4/sprites.vtt');
    const cues = vtt.trim().split('\n\n').slice(1);
    expect(cues).toHaveLength(7);
    expect(cues[0]).toBe('00:00:00.000 --> 00:00:10.000\nsprite_000.jpg#xywh=0,0,320,180');
    expect(cues[5]).toBe('00:00:50.000 --> 00:01:00.000\nsprite_001.jpg#xywh=320,0,320,180');
    expect(cues[6]).toBe('00:01:00.000 --> 00:01:05.000\nsprite_001.jpg#xywh=0,180,320,180');
  });

  it('sizes a one-row last sheet to its thumbnails', async () => {
    const one = await put('frames/one.png', await onePixelPng());
    const payload = parsePayload('image:sprite', {
      mediaId: 'm5',
      familyId: 'f1',
      output: { bucket, prefix: 'sprites/m5' },
      images: [0, 5, 10].map((timestamp) => ({ ...one, timestamp })),
    });
    const result = await sprite(payload, job(), storage, limits);
    expect(result.sheets).toEqual([
      expect.objectContaining({ firstThumbnail: 0, lastThumbnail: 2, columns: 3, rows: 1, width: 960, height: 180 }),
    ]);
    const meta = await sharp(await storage.read({ bucket, key: 'sprites/m5/sprite_000.jpg' })).metadata();
    expect([meta.width, meta.height]).toEqual([960, 180]);
  });

  it('builds sheets from a video at an interval, one thumbnail per interval from 0', async () => {
    const file = await makeSample(root, 'clip', 640, 272, { seconds: 23, subtitles: false });
    const video = await put('videos/clip.mkv', await readFile(file));
    const payload = parsePayload('image:sprite', {
      mediaId: 'm6',
      familyId: 'f1',
      output: { bucket, prefix: 'sprites/m6' },
      video,
      intervalSeconds: 2,
      columns: 5,
      rows: 2,
    });
    const result = await sprite(payload, job(), storage, limits);
    // ceil(23 / 2) = 12 thumbnails: a full 5x2 sheet and a 2x1 sheet.
    expect(result.thumbnailCount).toBe(12);
    expect(result.sheets.map((s) => [s.firstThumbnail, s.lastThumbnail, s.columns, s.rows, s.width, s.height])).toEqual(
      [
        [0, 9, 5, 2, 1600, 360],
        [10, 11, 2, 1, 640, 180],
      ],
    );
    const sheet = await storage.read({ bucket, key: 'sprites/m6/sprite_000.jpg' });
    // 640x272 (2.35:1) → 320x136: 22-pixel bars at the top and bottom of each tile.
    expect(Math.max(...(await pixel(sheet, 160, 8)))).toBeLessThan(30);
    expect(Math.max(...(await pixel(sheet, 160, 90)))).toBeGreaterThan(40);
    const cues = (await storage.read({ bucket, key: result.vttKey })).toString().trim().split('\n\n').slice(1);
    expect(cues).toHaveLength(12);
    expect(cues[11]).toBe('00:00:22.000 --> 00:00:23.000\nsprite_001.jpg#xywh=320,0,320,180');
  });
});

describe('bounded output', () => {
  it('a 100-minute video at the smallest interval makes at most MAX_THUMBNAILS thumbnails', async () => {
    const file = join(root, 'long-tiny.mkv');
    await run(
      tools.ffmpeg,
      ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=c=gray:s=32x32:r=2', '-t', '6000'].concat([
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-g',
        '600',
        file,
      ]),
    );
    const video = await put('videos/long-tiny.mkv', await readFile(file));
    const payload = parsePayload('image:sprite', {
      mediaId: 'm7',
      familyId: 'f1',
      output: { bucket, prefix: 'sprites/m7' },
      video,
      intervalSeconds: 0.5,
      columns: 50,
      rows: 50,
      thumbWidth: 16,
      thumbHeight: 16,
    });
    const result = await sprite(payload, job(), storage, limits);
    // 6000 s / 0.5 s would be 12 000; the interval is widened to 0.6 s: 10 000 thumbnails on 4 sheets.
    expect(result.intervalSeconds).toBe(0.6);
    expect(result.thumbnailCount).toBe(MAX_THUMBNAILS);
    expect(result.sheets).toHaveLength(4);
    const cues = (await storage.read({ bucket, key: result.vttKey })).toString().trim().split('\n\n').slice(1);
    expect(cues).toHaveLength(MAX_THUMBNAILS);
    expect(cues[1]).toMatch(/^00:00:00.600 --> 00:00:01.200\n/);
  });

  it('a playlist uploaded as a video is refused, unrecoverably', async () => {
    const clip = await makeSample(root, 'outside-clip', 160, 90, { seconds: 3, subtitles: false });
    const hls = `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:3,\n${clip}\n#EXT-X-ENDLIST\n`;
    const video = await put('videos/playlist.mp4', Buffer.from(hls));
    const payload = parsePayload('image:sprite', {
      mediaId: 'm8',
      familyId: 'f1',
      output: { bucket, prefix: 'sprites/m8' },
      video,
    });
    const error = await sprite(payload, job(), storage, limits).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'MediaError', code: 'REFUSED_INPUT' });
    expect((error as Error).message).toMatch(/refused input: .*hls is not read/);
    expect(await storage.list(bucket, 'sprites/m8/')).toEqual([]);
  });
});

describe('bad input fails at once, unrecoverably, with the reason', () => {
  const posterOf = (key: string) =>
    parsePayload('image:poster', {
      mediaId: 'bad',
      familyId: 'f1',
      source: { bucket, key },
      output: { bucket, prefix: 'bad' },
    });

  it('refuses a file that is not an image', async () => {
    await put('bad/notes.jpg', Buffer.from('this is not a picture'));
    const error = await poster(posterOf('bad/notes.jpg'), job(), storage, limits).catch((e) => e);
    expect(error).toMatchObject({ code: 'NOT_MEDIA' });
    expect(isFinalFailure(error, RETRY_POLICY)).toBe(true);
    expect(error.message).toMatch(/^media\/bad\/notes\.jpg: not an image/);
  });

  it('refuses a truncated JPEG', async () => {
    await put('bad/half.jpg', truncated(await noisyImage(600, 400)));
    const error = await poster(posterOf('bad/half.jpg'), job(), storage, limits).catch((e) => e);
    expect(error).toMatchObject({ code: 'NOT_DECODABLE' });
    expect(isFinalFailure(error, RETRY_POLICY)).toBe(true);
    expect(error.message).toMatch(/^media\/bad\/half\.jpg: cannot be decoded/);
  });

  it('refuses a decompression bomb from its header, before decoding', async () => {
    await put('bad/bomb.png', await hugeDeclaredPng(100_000, 100_000));
    const error = await poster(posterOf('bad/bomb.png'), job(), storage, limits).catch((e) => e);
    expect(error).toMatchObject({ code: 'INPUT_TOO_LARGE' });
    expect(isFinalFailure(error, RETRY_POLICY)).toBe(true);
    expect(error.message).toContain('declares 100000x100000 = 10000000000 pixels, over the limit of 100000000');
    expect(await storage.list(bucket, 'bad/poster-')).toEqual([]);
  });

  it('refuses a sprite job when one of its images is broken', async () => {
    await put('bad/good.png', await onePixelPng());
    const payload = parsePayload('image:sprite', {
      mediaId: 'bad',
      familyId: 'f1',
      output: { bucket, prefix: 'bad/sprites' },
      images: [
        { bucket, key: 'bad/good.png', timestamp: 0 },
        { bucket, key: 'bad/notes.jpg', timestamp: 5 },
      ],
    });
    await expect(sprite(payload, job(), storage, limits)).rejects.toMatchObject({ code: 'NOT_MEDIA' });
  });
});
