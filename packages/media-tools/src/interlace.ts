import { runLog, tools } from './ffmpeg.js';
import { ffmpegInput } from './input.js';
import type { VideoInfo } from './probe.js';

/** Frames idet looks at when the container does not say: a few seconds of video. */
const IDET_FRAMES = 200;

/**
 * Whether a video must be deinterlaced, and its field order. The stream's own
 * field order decides when it gives one; when it does not (`unknown`), a short
 * `idet` pass over the first frames counts interlaced and progressive frames,
 * and the majority wins.
 */
export async function interlacing(
  path: string,
  video: VideoInfo,
  signal?: AbortSignal,
): Promise<'tff' | 'bff' | false> {
  if (video.fieldOrder === 'tff' || video.fieldOrder === 'bff') return video.fieldOrder;
  if (video.fieldOrder === 'progressive') return false;
  const counts = await detectFields(path, video.index, signal);
  const interlaced = counts.tff + counts.bff;
  if (interlaced <= counts.progressive) return false;
  return counts.tff >= counts.bff ? 'tff' : 'bff';
}

/** idet's multi-frame counts over the first frames of stream `index`. */
export async function detectFields(
  path: string,
  index: number,
  signal?: AbortSignal,
): Promise<{ tff: number; bff: number; progressive: number; undetermined: number }> {
  const args = [...ffmpegInput(path, ['-noautorotate']), '-map', `0:${index}`];
  args.push('-vf', 'idet', '-frames:v', String(IDET_FRAMES), '-an', '-sn', '-f', 'null', '-');
  // idet reports at the end of the run, on stderr at info level.
  const stderr = await runLog(tools.ffmpeg, args, { signal, maxChars: 16_000, keep: 'tail' });
  const multi =
    /Multi frame detection:\s*TFF:\s*(\d+)\s*BFF:\s*(\d+)\s*Progressive:\s*(\d+)\s*Undetermined:\s*(\d+)/.exec(stderr);
  const [tff, bff, progressive, undetermined] = (multi?.slice(1) ?? ['0', '0', '0', '0']).map(Number) as [
    number,
    number,
    number,
    number,
  ];
  return { tff, bff, progressive, undetermined };
}
