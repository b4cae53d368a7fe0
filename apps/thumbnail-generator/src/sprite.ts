import { open } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkFrameSize,
  ffmpegInput,
  type Grid,
  interlacing,
  MediaError,
  type MediaLimits,
  matrixOf,
  pictureFilters,
  probe,
  progressOf,
  run,
  sheetLayout,
  sheetName,
  thumbnailFilters,
  thumbnailIntervalFor,
  thumbnailVtt,
  tools,
  type VideoInfo,
} from '@nself-tv/media-tools';
import { type JobContext, type JobResult, MAX_THUMBNAILS, type Payload } from '@nself-tv/queues';
import { keyUnder, type MediaStorage, withLocalFile, withTempDir } from '@nself-tv/storage';
import sharp from 'sharp';
import { type ImageLimits, loadImage, render } from './image-input.js';

type Sheet = JobResult<'image:sprite'>['sheets'][number];
type Job = Pick<JobContext, 'progress' | 'signal'>;

const SHEET_QUALITY = 80;
/** Source images decoded at once while filling a sheet. */
const IMAGES_IN_FLIGHT = 8;

/** Thumbnails as raw RGB tiles of the grid's size, fetched a sheet at a time. */
interface Tiles {
  count: number;
  /** Tiles `from` to `to - 1`. */
  range(from: number, to: number): Promise<Buffer[]>;
}

/**
 * The `image:sprite` processor: thumbnails letterboxed into `thumbWidth` ×
 * `thumbHeight` tiles (aspect kept, black bars), laid out row by row on sheets
 * of `columns` × `rows` (`sprite_000.jpg`, …; the last sheet only as large as
 * its thumbnails need), and `sprites.vtt` in the trickplay format. Thumbnails
 * come from `images` (ordered by timestamp; the last one lasts
 * `intervalSeconds`) or from `video`, one every `intervalSeconds` from 0.
 */
export async function sprite(
  payload: Payload<'image:sprite'>,
  job: Job,
  storage: MediaStorage,
  limits: ImageLimits & MediaLimits,
): Promise<JobResult<'image:sprite'>> {
  const grid: Grid = {
    columns: payload.columns,
    rows: payload.rows,
    width: payload.thumbWidth,
    height: payload.thumbHeight,
  };
  if (payload.images) {
    const images = [...payload.images].sort((a, b) => a.timestamp - b.timestamp);
    const times = images.map((i) => i.timestamp);
    const end = (times.at(-1) ?? 0) + payload.intervalSeconds;
    const tiles: Tiles = {
      count: images.length,
      range: async (from, to) => {
        const out: Buffer[] = [];
        for (let i = from; i < to; i += IMAGES_IN_FLIGHT) {
          const batch = images.slice(i, Math.min(to, i + IMAGES_IN_FLIGHT));
          out.push(...(await Promise.all(batch.map((image) => imageTile(storage, image, grid, limits)))));
        }
        return out;
      },
    };
    return writeSprites(payload, job, storage, grid, tiles, times, end, 0);
  }
  const video = payload.video as NonNullable<typeof payload.video>;
  return withLocalFile(storage, video, async (input) => {
    const info = await probe(input, job.signal);
    if (!info.video) throw new MediaError('NO_VIDEO', `${video.bucket}/${video.key}: has no video stream`);
    checkFrameSize(info, limits.maxVideoPixels, `${video.bucket}/${video.key}`);
    const interval = thumbnailIntervalFor(info.durationSeconds, payload.intervalSeconds, MAX_THUMBNAILS);
    return withTempDir('sprite', async (dir) => {
      const raw = join(dir, 'frames.rgb');
      const deinterlace = await interlacing(input, info.video as VideoInfo, job.signal);
      await extractFrames(input, raw, interval, grid, info.video as VideoInfo, deinterlace, info.durationSeconds, job);
      const frameBytes = grid.width * grid.height * 3;
      const file = await open(raw);
      try {
        const count = Math.floor((await file.stat()).size / frameBytes);
        if (count === 0)
          throw new MediaError('NOT_DECODABLE', `${video.bucket}/${video.key}: no frame could be decoded`);
        const tiles: Tiles = {
          count,
          range: async (from, to) => {
            const block = Buffer.allocUnsafe((to - from) * frameBytes);
            await file.read(block, 0, block.length, from * frameBytes);
            return Array.from({ length: to - from }, (_, i) => block.subarray(i * frameBytes, (i + 1) * frameBytes));
          },
        };
        // The bound holds even if the decoder made more frames than the duration promised.
        const kept = { ...tiles, count: Math.min(count, MAX_THUMBNAILS) };
        const times = Array.from({ length: kept.count }, (_, i) => i * interval);
        const end = Math.max(info.durationSeconds, (times.at(-1) ?? 0) + 0.001);
        const result = await writeSprites(payload, job, storage, grid, kept, times, end, 50);
        return { ...result, intervalSeconds: interval };
      } finally {
        await file.close();
      }
    });
  });
}

/** One source image as a letterboxed raw RGB tile. */
async function imageTile(
  storage: MediaStorage,
  location: { bucket: string; key: string },
  grid: Grid,
  limits: ImageLimits,
): Promise<Buffer> {
  const source = await loadImage(storage, location, limits);
  const { data } = await render(
    `${location.bucket}/${location.key}`,
    source
      .pipeline()
      .resize(grid.width, grid.height, { fit: 'contain', background: '#000000' })
      .flatten({ background: '#000000' })
      .removeAlpha()
      .raw(),
  );
  return data;
}

/**
 * ffmpeg writes one letterboxed RGB frame per interval, starting at 0, into
 * `out`: the picture as the viewer sees it (upright, progressive, SDR),
 * fitted by its display aspect ratio.
 */
async function extractFrames(
  input: string,
  out: string,
  interval: number,
  grid: Grid,
  video: VideoInfo,
  deinterlace: 'tff' | 'bff' | false,
  duration: number,
  job: Job,
) {
  const filter = [
    ...pictureFilters(video, { deinterlace, constantRate: false }),
    ...thumbnailFilters(interval, video, grid, matrixOf(video)),
  ].join(',');
  const args = [...ffmpegInput(input, ['-noautorotate']), '-map', `0:${video.index}`];
  args.push('-vf', filter);
  // Never more frames than the bound, whatever the stream's timestamps claim.
  args.push('-frames:v', String(MAX_THUMBNAILS));
  args.push('-f', 'rawvideo', '-pix_fmt', 'rgb24', '-progress', 'pipe:1', '-nostats', out);
  await run(tools.ffmpeg, args, {
    signal: job.signal,
    onProgress: (f) =>
      void job.progress(progressOf(f, { seconds: Math.max(duration, 0.001) }) * 50).catch(() => undefined),
  });
}

/** Lays the tiles out on sheets, writes them and the VTT, and builds the result. */
async function writeSprites(
  payload: Payload<'image:sprite'>,
  job: Job,
  storage: MediaStorage,
  grid: Grid,
  tiles: Tiles,
  times: number[],
  end: number,
  progressFrom: number,
): Promise<JobResult<'image:sprite'>> {
  // Composed here, so the last sheet is only as large as its thumbnails need.
  const layout = sheetLayout(tiles.count, grid, { trim: true });
  const sheets: Sheet[] = [];
  for (const span of layout) {
    job.signal.throwIfAborted();
    const { firstThumbnail: first, lastThumbnail: last, width, height } = span;
    const sheet = Buffer.alloc(width * height * 3);
    const rowBytes = grid.width * 3;
    (await tiles.range(first, last + 1)).forEach((tile, i) => {
      const x = (i % grid.columns) * grid.width;
      const y = Math.floor(i / grid.columns) * grid.height;
      for (let r = 0; r < grid.height; r++)
        tile.copy(sheet, ((y + r) * width + x) * 3, r * rowBytes, (r + 1) * rowBytes);
    });
    const { data } = await render(
      'sprite sheet',
      sharp(sheet, { raw: { width, height, channels: 3 } }).jpeg({ quality: SHEET_QUALITY }),
    );
    const key = keyUnder(payload.output.prefix, sheetName(span.index));
    await storage.write({ bucket: payload.output.bucket, key }, data);
    sheets.push({ key, ...span });
    await job.progress(progressFrom + ((span.index + 1) / layout.length) * (99 - progressFrom));
  }
  const vttKey = keyUnder(payload.output.prefix, 'sprites.vtt');
  await storage.write({ bucket: payload.output.bucket, key: vttKey }, thumbnailVtt(times, end, grid, sheetName));
  await job.progress(100);
  return { vttKey, sheets, thumbnailCount: tiles.count, thumbWidth: grid.width, thumbHeight: grid.height };
}
