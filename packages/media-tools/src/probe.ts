import { z } from 'zod';
import { MediaError } from './errors.js';
import { run, ToolError, tools } from './ffmpeg.js';
import { inputArgs } from './input.js';
import {
  type Colour,
  displaySize,
  type FieldOrder,
  fieldOrderOf,
  hdrOf,
  type Orientation,
  orientationOf,
  outputFps,
  parseDisplayMatrix,
  ratio,
} from './picture.js';

const streamSchema = z.object({
  index: z.number(),
  codec_type: z.string().optional(),
  codec_name: z.string().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
  sample_aspect_ratio: z.string().optional(),
  pix_fmt: z.string().optional(),
  profile: z.string().optional(),
  level: z.number().optional(),
  sample_rate: z.string().optional(),
  bits_per_raw_sample: z.string().optional(),
  field_order: z.string().optional(),
  color_transfer: z.string().optional(),
  color_primaries: z.string().optional(),
  color_space: z.string().optional(),
  avg_frame_rate: z.string().optional(),
  r_frame_rate: z.string().optional(),
  channels: z.number().optional(),
  channel_layout: z.string().optional(),
  duration: z.string().optional(),
  start_time: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  disposition: z.record(z.string(), z.number()).optional(),
  side_data_list: z
    .array(z.object({ side_data_type: z.string().optional(), displaymatrix: z.string().optional() }).loose())
    .optional(),
});
const probeSchema = z.object({
  streams: z.array(streamSchema).default([]),
  format: z
    .object({ duration: z.string().optional(), format_name: z.string().optional(), start_time: z.string().optional() })
    .optional(),
});

/** The video stream the workers use, described as the viewer sees it. */
export interface VideoInfo {
  /** Stream index in the file (for `-map 0:<index>`): the real video, never cover art. */
  index: number;
  codec: string;
  /** Display size: sample aspect ratio applied, then the orientation. What every size decision uses. */
  width: number;
  height: number;
  /** The size as stored, before SAR and orientation (what decoding costs). */
  coded: { width: number; height: number };
  sampleAspectRatio: number;
  orientation: Orientation;
  colour: Colour;
  fieldOrder: FieldOrder;
  /** The constant output rate (nominal rate, standard rates snapped, at most 60). */
  fps: number;
  /** How long the video stream itself lasts (shorter than the file when the audio runs on). */
  durationSeconds: number;
  /** Timestamp of the stream's first frame (broadcast recordings rarely start at 0). */
  startSeconds: number;
  /** The codec's profile and level as ffprobe names them (`High`, 40 for H.264 level 4.0), when it says. */
  profile: string | undefined;
  level: number | undefined;
  /** The decoded sample format (`yuv420p`, `yuv420p10le`, …), when known. */
  pixelFormat: string | undefined;
}

/** One audio track. */
export interface AudioTrack {
  index: number;
  codec: string;
  /** The codec's profile (`LC`, `HE-AAC`, …), when ffprobe names one. */
  profile: string | undefined;
  channels: number;
  sampleRate: number | undefined;
  language: string | undefined;
  title: string | undefined;
  default: boolean;
}

/** One subtitle track. */
export interface SubtitleTrack {
  index: number;
  codec: string;
  language: string | undefined;
  title: string | undefined;
  default: boolean;
  forced: boolean;
}

/** What the workers need to know about a source. */
export interface MediaInfo {
  durationSeconds: number;
  /** The file's first timestamp, over every stream: what `-start_at_zero` takes away. */
  startSeconds: number;
  video: VideoInfo | undefined;
  /** The track a player starts with: the one marked default, else the first. */
  audio: AudioTrack | undefined;
  /** Every audio track, in file order. */
  audioTracks: AudioTrack[];
  subtitles: SubtitleTrack[];
}

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
    if (error instanceof ToolError) {
      throw new MediaError('NOT_MEDIA', `not a readable media file: ${error.message}`, { cause: error });
    }
    throw error;
  }
  const parsed = probeSchema.parse(JSON.parse(out));
  const streams = parsed.streams;
  // The real picture: not cover art or a thumbnail track, and the largest when there are several.
  const v = streams
    .filter((s) => s.codec_type === 'video' && !s.disposition?.attached_pic && !s.disposition?.still_image)
    .filter((s) => (s.width ?? 0) > 0 && (s.height ?? 0) > 0)
    .sort((a, b) => (b.width ?? 0) * (b.height ?? 0) - (a.width ?? 0) * (a.height ?? 0))[0];
  const durationSeconds = Number(parsed.format?.duration ?? 0) || 0;
  const audioTracks: AudioTrack[] = streams
    .filter((s) => s.codec_type === 'audio' && (s.channels ?? 1) > 0)
    .map((s) => ({
      index: s.index,
      codec: s.codec_name ?? 'unknown',
      profile: s.profile,
      channels: s.channels ?? 2,
      sampleRate: Number(s.sample_rate) || undefined,
      language: s.tags?.language,
      title: s.tags?.title,
      default: s.disposition?.default === 1,
    }));
  return {
    durationSeconds,
    startSeconds: Number(parsed.format?.start_time) || 0,
    video: v ? videoInfo(v, durationSeconds) : undefined,
    audio: audioTracks.find((a) => a.default) ?? audioTracks[0],
    audioTracks,
    subtitles: streams
      .filter((s) => s.codec_type === 'subtitle')
      .map((s) => ({
        index: s.index,
        codec: s.codec_name ?? 'unknown',
        language: s.tags?.language,
        title: s.tags?.title,
        default: s.disposition?.default === 1,
        forced: s.disposition?.forced === 1,
      })),
  };
}

function videoInfo(v: z.infer<typeof streamSchema>, fileSeconds: number): VideoInfo {
  const coded = { width: v.width ?? 0, height: v.height ?? 0 };
  const matrix = v.side_data_list?.find((d) => d.side_data_type === 'Display Matrix')?.displaymatrix;
  const orientation = orientationOf(parseDisplayMatrix(matrix));
  const sampleAspectRatio = ratio(v.sample_aspect_ratio, 1);
  const display = displaySize(coded.width, coded.height, sampleAspectRatio, orientation);
  const bitDepth = Number(v.bits_per_raw_sample) || (/p1[0-6]/.test(v.pix_fmt ?? '') ? 10 : 8);
  const videoSeconds = Number(v.duration) || tagSeconds(v.tags?.DURATION) || fileSeconds;
  return {
    index: v.index,
    codec: v.codec_name ?? 'unknown',
    ...display,
    coded,
    sampleAspectRatio,
    orientation,
    colour: {
      primaries: v.color_primaries,
      transfer: v.color_transfer,
      matrix: v.color_space,
      bitDepth,
      hdr: hdrOf(v.color_transfer),
    },
    fieldOrder: fieldOrderOf(v.field_order),
    fps: outputFps(v.r_frame_rate, v.avg_frame_rate),
    durationSeconds: Math.min(videoSeconds, fileSeconds || videoSeconds),
    startSeconds: Number(v.start_time) || 0,
    profile: v.profile,
    level: v.level !== undefined && v.level > 0 ? v.level : undefined,
    pixelFormat: v.pix_fmt,
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
  const coded = info.video?.coded;
  if (coded && coded.width * coded.height > maxPixels) {
    throw new MediaError(
      'FRAME_TOO_LARGE',
      `${what}: a ${coded.width}x${coded.height} frame is larger than the limit of ${maxPixels} pixels (MAX_VIDEO_PIXELS)`,
    );
  }
}
