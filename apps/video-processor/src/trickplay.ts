import { join } from 'node:path';
import {
  checkFrameSize,
  type Grid,
  inputArgs,
  keyUnder,
  probe,
  run,
  thumbnailIntervalFor,
  thumbnailVtt,
  tools,
} from '@nself-tv/media-tools';
import type { JobContext, JobResult, Payload } from '@nself-tv/queues';
import { UnrecoverableError } from '@nself-tv/queues';
import { type MediaStorage, withTempDir } from '@nself-tv/storage';
import type { WorkerLimits } from '@nself-tv/worker-http';

const GRID: Grid = { columns: 10, rows: 10, width: 320, height: 180 };
export const sheetName = (i: number) => `sprite_${String(i).padStart(3, '0')}.jpg`;

/** The `video:trickplay` processor: 320x180 thumbnails every interval, 10x10 sheets, `trickplay.vtt`. */
export async function trickplay(
  payload: Payload<'video:trickplay'>,
  job: Pick<JobContext, 'progress' | 'signal'>,
  storage: MediaStorage,
  limits: WorkerLimits,
): Promise<JobResult<'video:trickplay'>> {
  const input = await storage.localPath(payload.source);
  const info = await probe(input, job.signal);
  if (!info.video) throw new UnrecoverableError('source has no video stream');
  checkFrameSize(info, limits.maxVideoPixels, `${payload.source.bucket}/${payload.source.key}`);
  const duration = info.durationSeconds;
  const interval = thumbnailIntervalFor(duration, payload.intervalSeconds);
  const count = Math.max(1, Math.ceil(duration / interval));
  const times = Array.from({ length: count }, (_, i) => i * interval);
  const perSheet = GRID.columns * GRID.rows;
  const sheetCount = Math.ceil(count / perSheet);
  await job.progress(5);

  return withTempDir('trickplay', async (dir) => {
    // One frame per interval, starting at 0; letterboxed to 320x180 with the aspect ratio kept; tiled 10x10.
    const filter = [
      `fps=1/${interval}:start_time=0:round=down:eof_action=pass`,
      `scale=${GRID.width}:${GRID.height}:force_original_aspect_ratio=decrease`,
      `pad=${GRID.width}:${GRID.height}:(ow-iw)/2:(oh-ih)/2:black`,
      'setsar=1',
      `tile=${GRID.columns}x${GRID.rows}`,
    ].join(',');
    await run(
      tools.ffmpeg,
      [
        '-hide_banner',
        '-nostdin',
        '-y',
        ...inputArgs(input),
        '-an',
        '-sn',
        '-vf',
        filter,
        '-frames:v',
        String(sheetCount),
        '-q:v',
        '3',
        '-start_number',
        '0',
        '-progress',
        'pipe:1',
        '-nostats',
        join(dir, 'sprite_%03d.jpg'),
      ],
      {
        signal: job.signal,
        onProgress: (f) =>
          void job
            .progress(5 + Math.min(90, (Number(f.get('out_time_us') ?? 0) / 1e6 / duration) * 90))
            .catch(() => undefined),
      },
    );
    const sheets: JobResult<'video:trickplay'>['sheets'] = [];
    for (let s = 0; s < sheetCount; s++) {
      const key = keyUnder(payload.output.prefix, sheetName(s));
      await storage.putFile({ bucket: payload.output.bucket, key }, join(dir, sheetName(s)));
      sheets.push({
        key,
        index: s,
        firstThumbnail: s * perSheet,
        lastThumbnail: Math.min(count, (s + 1) * perSheet) - 1,
        columns: GRID.columns,
        rows: GRID.rows,
        width: GRID.columns * GRID.width,
        height: GRID.rows * GRID.height,
      });
    }
    const vttKey = keyUnder(payload.output.prefix, 'trickplay.vtt');
    await storage.write({ bucket: payload.output.bucket, key: vttKey }, thumbnailVtt(times, duration, GRID, sheetName));
    await job.progress(100);
    return {
      vttKey,
      sheets,
      thumbnailCount: count,
      intervalSeconds: interval,
      thumbWidth: GRID.width,
      thumbHeight: GRID.height,
      durationSeconds: duration,
    };
  });
}
