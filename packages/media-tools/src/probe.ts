import { UnrecoverableError } from '@nself-tv/queues';
import { z } from 'zod';
import { run, ToolError, tools } from './ffmpeg.js';
import { inputArgs } from './input.js';

const streamSchema = z.object({
  index: z.number(),
  codec_type: z.string().optional(),
  codec_name: z.string().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
  avg_frame_rate: z.string().optional(),
  r_frame_rate: z.string().optional(),
  channels: z.number().optional(),
  duration: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  disposition: z.record(z.string(), z.number()).optional(),
});
const probeSchema = z.object({
  streams: z.array(streamSchema).default([]),
  format: z.object({ duration: z.string().optional(), format_name: z.string().optional() }).optional(),
});

/** What the workers need to know about a source. */
export interface MediaInfo {
  durationSeconds: number;
  video:
    | {
        index: number;
        codec: string;
        width: number;
        height: number;
        fps: number;
        /** How long the video stream itself lasts (shorter than the file when the audio runs on). */
        durationSeconds: number;
      }
    | undefined;
  audio: { index: number; codec: string; channels: number } | undefined;
  subtitles: { index: number; codec: string; language: string | undefined; title: string | undefined }[];
}

const rate = (value: string | undefined) => {
  const [n, d] = (value ?? '0/1').split('/').map(Number);
  return n && d ? n / d : 0;
};

/** Matroska keeps a stream's length in a `DURATION` tag (`00:00:02.000000000`). */
const tagSeconds = (value: string | undefined) => {
  const m = value ? /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(value) : null;
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : undefined;
};

/** Longest ffprobe may take: it reads headers and a few packets, never the whole file. */
export const PROBE_TIMEOUT_MS = 60_000;

/**
 * Runs ffprobe on `path` as the one file it is (no playlists or other
 * indirection, see `inputArgs`). An unreadable file, a refused format or one
 * without any stream fails unrecoverably.
 */
export async function probe(path: string, signal?: AbortSignal): Promise<MediaInfo> {
  let out: string;
  try {
    out = await run(
      tools.ffprobe,
      ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', ...inputArgs(path)],
      { signal, timeoutMs: PROBE_TIMEOUT_MS },
    );
  } catch (error) {
    if (error instanceof ToolError) throw new UnrecoverableError(`not a readable media file: ${error.message}`);
    throw error;
  }
  const parsed = probeSchema.parse(JSON.parse(out));
  const streams = parsed.streams;
  const v = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic && (s.width ?? 0) > 0);
  const a = streams.find((s) => s.codec_type === 'audio');
  const fps = v ? rate(v.avg_frame_rate) || rate(v.r_frame_rate) || 25 : 0;
  const durationSeconds = Number(parsed.format?.duration ?? 0) || 0;
  const videoSeconds = v ? Number(v.duration) || tagSeconds(v.tags?.DURATION) || durationSeconds : 0;
  return {
    durationSeconds,
    video: v
      ? {
          index: v.index,
          codec: v.codec_name ?? 'unknown',
          width: v.width ?? 0,
          height: v.height ?? 0,
          fps,
          durationSeconds: Math.min(videoSeconds, durationSeconds || videoSeconds),
        }
      : undefined,
    audio: a ? { index: a.index, codec: a.codec_name ?? 'unknown', channels: a.channels ?? 2 } : undefined,
    subtitles: streams
      .filter((s) => s.codec_type === 'subtitle')
      .map((s) => ({
        index: s.index,
        codec: s.codec_name ?? 'unknown',
        language: s.tags?.language,
        title: s.tags?.title,
      })),
  };
}

/** Default largest video frame accepted (`MAX_VIDEO_PIXELS`): 8K UHD, 7680 × 4320. */
export const DEFAULT_MAX_VIDEO_PIXELS = 7680 * 4320;

/**
 * Refuses a video whose declared frame is larger than `maxPixels` (width ×
 * height), before anything decodes it: a small file can declare a frame that
 * takes gigabytes to decode.
 */
export function checkFrameSize(info: MediaInfo, maxPixels: number, what: string): void {
  const v = info.video;
  if (v && v.width * v.height > maxPixels) {
    throw new UnrecoverableError(
      `${what}: a ${v.width}x${v.height} frame is larger than the limit of ${maxPixels} pixels (MAX_VIDEO_PIXELS)`,
    );
  }
}
