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
  sheetFilter,
  sheetLayout,
  sheetName,
  sheetOutput,
  thumbnailFilters,
  thumbnailIntervalFor,
  thumbnailVtt,
  tools,
} from '@nself-tv/media-tools';
import type { JobContext, JobResult, OutputLocation, Payload } from '@nself-tv/queues';
import { MAX_THUMBNAILS } from '@nself-tv/queues';
import { ITEM_LAYOUT, keyUnder, type MediaStorage, withLocalFile, withTempDir } from '@nself-tv/storage';
import { z } from 'zod';

/** The trickplay grid the nself-tv player reads: 320x180 thumbnails, 10x10 to a sheet. */
export const GRID: Grid = { columns: 10, rows: 10, width: 320, height: 180 };

/** How many thumbnails and sheets a video makes at an interval (widened on long videos). */
export const thumbnailPlan = z.object({
  interval: z.number().positive(),
  count: z.number().int().positive(),
  sheetCount: z.number().int().nonnegative(),
  duration: z.number().nonnegative(),
});
export type ThumbnailPlan = z.infer<typeof thumbnailPlan>;

export function planThumbnails(durationSeconds: number, askedInterval: number): ThumbnailPlan {
  const interval = thumbnailIntervalFor(durationSeconds, askedInterval, MAX_THUMBNAILS);
  const count = Math.max(1, Math.ceil(durationSeconds / interval));
  return { interval, count, sheetCount: Math.ceil(count / (GRID.columns * GRID.rows)), duration: durationSeconds };
}

/** Stores the sheets ffmpeg wrote into `dir` and the WebVTT index; returns the trickplay result. */
export async function storeTrickplay(
  storage: MediaStorage,
  output: OutputLocation,
  dir: string,
  plan: ThumbnailPlan,
): Promise<JobResult<'video:trickplay'>> {
  // ffmpeg's tile filter writes every sheet at the grid's full size.
  const sheets: JobResult<'video:trickplay'>['sheets'] = [];
  for (const span of sheetLayout(plan.count, GRID, { trim: false })) {
    const key = keyUnder(output.prefix, sheetName(span.index));
    await storage.putFile({ bucket: output.bucket, key }, join(dir, sheetName(span.index)));
    sheets.push({ key, ...span });
  }
  const times = Array.from({ length: plan.count }, (_, i) => i * plan.interval);
  const vttKey = keyUnder(output.prefix, ITEM_LAYOUT.trickplay.index);
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

/** Where the chunks of a transcode leave their trickplay thumbnails for the assembly to tile. */
export const TRICKPLAY_FRAMES = `${ITEM_LAYOUT.trickplay.path}${ITEM_LAYOUT.trickplay.scratch}`;

/** The `video:trickplay` processor: 320x180 thumbnails every interval, 10x10 sheets, `trickplay.vtt`. */
export async function trickplay(
  payload: Payload<'video:trickplay'>,
  job: Pick<JobContext, 'progress' | 'signal'>,
  storage: MediaStorage,
  limits: MediaLimits,
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
        ...thumbnailFilters(plan.interval, video, GRID, matrixOf(video)),
        sheetFilter(GRID),
      ];
      const args = [...ffmpegInput(input, ['-noautorotate']), '-map', `0:${video.index}`];
      args.push('-vf', filter.join(','), '-progress', 'pipe:1', '-nostats', ...sheetOutput(plan.sheetCount, dir));
      await run(tools.ffmpeg, args, {
        signal: job.signal,
        onProgress: (f) => void job.progress(5 + progressOf(f, { seconds: plan.duration }) * 90).catch(() => undefined),
      });
      const result = await storeTrickplay(storage, payload.output, dir, plan);
      await job.progress(100);
      return result;
    });
  });
}
