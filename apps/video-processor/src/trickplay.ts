import { join } from 'node:path';
import {
  checkFrameSize,
  type Grid,
  inputArgs,
  interlacing,
  keyUnder,
  letterbox,
  type Matrix,
  matrixOf,
  MediaError,
  pictureFilters,
  probe,
  run,
  thumbnailIntervalFor,
  thumbnailVtt,
  tools,
} from '@nself-tv/media-tools';
import type { JobContext, JobResult, OutputLocation, Payload } from '@nself-tv/queues';
import { MAX_THUMBNAILS } from '@nself-tv/queues';
import { type MediaStorage, withLocalFile, withTempDir } from '@nself-tv/storage';
import type { WorkerLimits } from '@nself-tv/worker-http';

export const GRID: Grid = { columns: 10, rows: 10, width: 320, height: 180 };
export const sheetName = (i: number) => `sprite_${String(i).padStart(3, '0')}.jpg`;

/** How many thumbnails and sheets a video makes at an interval (widened on long videos). */
export interface ThumbnailPlan {
  interval: number;
  count: number;
  sheetCount: number;
  duration: number;
}

export function planThumbnails(durationSeconds: number, askedInterval: number): ThumbnailPlan {
  const interval = thumbnailIntervalFor(durationSeconds, askedInterval, MAX_THUMBNAILS);
  const count = Math.max(1, Math.ceil(durationSeconds / interval));
  return { interval, count, sheetCount: Math.ceil(count / (GRID.columns * GRID.rows)), duration: durationSeconds };
}

/** A frame letterboxed to a 320x180 tile by the display aspect ratio. */
export const tileFilters = (display: { width: number; height: number }, from: Matrix): string[] =>
  letterbox(display.width, display.height, GRID.width, GRID.height, from);

/** One frame per interval from 0, letterboxed to a 320x180 tile by the display aspect ratio. */
export function thumbnailFilters(interval: number, display: { width: number; height: number }, from: Matrix): string[] {
  return [`fps=1/${interval}:start_time=0:round=down:eof_action=pass`, ...tileFilters(display, from)];
}

/** Thumbnails tiled 10x10 into sheets. */
export const sheetFilters = (interval: number, display: { width: number; height: number }, from: Matrix): string[] => [
  ...thumbnailFilters(interval, display, from),
  `tile=${GRID.columns}x${GRID.rows}`,
];

/** ffmpeg output options and file pattern that write the sheets as `sprite_000.jpg`, … into `dir`. */
export const sheetOutput = (plan: ThumbnailPlan, dir: string): string[] => [
  ...['-frames:v', String(plan.sheetCount), '-q:v', '3', '-start_number', '0', '-f', 'image2'],
  join(dir, 'sprite_%03d.jpg'),
];

/** Stores the sheets ffmpeg wrote into `dir` and the WebVTT index; returns the trickplay result. */
export async function storeTrickplay(
  storage: MediaStorage,
  output: OutputLocation,
  dir: string,
  plan: ThumbnailPlan,
): Promise<JobResult<'video:trickplay'>> {
  const perSheet = GRID.columns * GRID.rows;
  const sheets: JobResult<'video:trickplay'>['sheets'] = [];
  for (let s = 0; s < plan.sheetCount; s++) {
    const key = keyUnder(output.prefix, sheetName(s));
    await storage.putFile({ bucket: output.bucket, key }, join(dir, sheetName(s)));
    sheets.push({
      key,
      index: s,
      firstThumbnail: s * perSheet,
      lastThumbnail: Math.min(plan.count, (s + 1) * perSheet) - 1,
      columns: GRID.columns,
      rows: GRID.rows,
      width: GRID.columns * GRID.width,
      height: GRID.rows * GRID.height,
    });
  }
  const times = Array.from({ length: plan.count }, (_, i) => i * plan.interval);
  const vttKey = keyUnder(output.prefix, 'trickplay.vtt');
  await storage.write({ bucket: output.bucket, key: vttKey }, thumbnailVtt(times, plan.duration, GRID, sheetName));
  return {
    vttKey,
    sheets,
    thumbnailCount: plan.count,
    intervalSeconds: plan.interval,
    thumbWidth: GRID.width,
    thumbHeight: GRID.height,
    durationSeconds: plan.duration,
  };
}

/** The `video:trickplay` processor: 320x180 thumbnails every interval, 10x10 sheets, `trickplay.vtt`. */
export async function trickplay(
  payload: Payload<'video:trickplay'>,
  job: Pick<JobContext, 'progress' | 'signal'>,
  storage: MediaStorage,
  limits: WorkerLimits,
): Promise<JobResult<'video:trickplay'>> {
  return withLocalFile(storage, payload.source, async (input) => {
    const info = await probe(input, job.signal);
    if (!info.video) throw new MediaError('NO_VIDEO', 'source has no video stream');
    checkFrameSize(info, limits.maxVideoPixels, `${payload.source.bucket}/${payload.source.key}`);
    const video = info.video;
    const plan = planThumbnails(info.durationSeconds, payload.intervalSeconds);
    const deinterlace = await interlacing(input, video, job.signal);
    await job.progress(5);

    return withTempDir('trickplay', async (dir) => {
      // The picture as the viewer sees it (upright, progressive, SDR), then the sheets.
      const filter = [
        ...pictureFilters(video, { deinterlace, constantRate: false }),
        ...sheetFilters(plan.interval, video, matrixOf(video)),
      ];
      const args = ['-hide_banner', '-nostdin', '-y', '-noautorotate', ...inputArgs(input), '-map', `0:${video.index}`];
      args.push('-vf', filter.join(','), '-progress', 'pipe:1', '-nostats', ...sheetOutput(plan, dir));
      await run(tools.ffmpeg, args, {
        signal: job.signal,
        onProgress: (f) =>
          void job
            .progress(5 + Math.min(90, (Number(f.get('out_time_us') ?? 0) / 1e6 / plan.duration) * 90))
            .catch(() => undefined),
      });
      const result = await storeTrickplay(storage, payload.output, dir, plan);
      await job.progress(100);
      return result;
    });
  });
}
