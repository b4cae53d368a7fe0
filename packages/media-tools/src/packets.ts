import { MediaError } from './errors.js';
import { run, ToolError, tools } from './ffmpeg.js';
import { inputArgs } from './input.js';

/** Most packets {@link videoPackets} reads: 24 hours at 60 frames a second. */
export const MAX_PACKETS = 24 * 3600 * 60;

/** A video stream's packets as stored, in decode order: what copying the stream would keep. */
export interface VideoPackets {
  /** Seconds of each packet's presentation time (decode order; NaN where the file gives none). */
  pts: Float64Array;
  /** Bytes of each packet. */
  bytes: Float64Array;
  /** Indexes (into `pts`) of the keyframes, in decode order. */
  keyframes: number[];
}

/**
 * Reads the timestamps and keyframe flags of every packet of stream `index` of `path`, without
 * decoding (ffprobe demuxes only: seconds for a film). A file with more than {@link MAX_PACKETS}
 * packets is refused: the result would not be bounded.
 */
export async function videoPackets(path: string, index: number, signal?: AbortSignal): Promise<VideoPackets> {
  let out: string;
  try {
    out = await run(
      tools.ffprobe,
      [
        '-v',
        'error',
        '-select_streams',
        String(index),
        '-show_entries',
        'packet=pts_time,size,flags',
        '-of',
        'csv=p=0',
        ...inputArgs(path),
      ],
      { signal },
    );
  } catch (error) {
    if (error instanceof ToolError) {
      throw new MediaError('NOT_MEDIA', `the packets of stream ${index} cannot be read: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
  const lines = out.split('\n').filter((l) => l.length > 0);
  if (lines.length > MAX_PACKETS) {
    throw new MediaError('NOT_MEDIA', `stream ${index} has more than ${MAX_PACKETS} packets`);
  }
  const pts = new Float64Array(lines.length);
  const bytes = new Float64Array(lines.length);
  const keyframes: number[] = [];
  lines.forEach((line, i) => {
    const [time = '', size = '', flags = ''] = line.split(',');
    pts[i] = time === 'N/A' || time === '' ? Number.NaN : Number(time);
    bytes[i] = Number(size) || 0;
    if (flags.startsWith('K')) keyframes.push(i);
  });
  return { pts, bytes, keyframes };
}
