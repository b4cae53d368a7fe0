import { UnrecoverableError } from '@nself-tv/queues';
import { z } from 'zod';
import { run, ToolError, tools } from './ffmpeg.js';

const streamSchema = z.object({
  index: z.number(),
  codec_type: z.string().optional(),
  codec_name: z.string().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
  avg_frame_rate: z.string().optional(),
  r_frame_rate: z.string().optional(),
  channels: z.number().optional(),
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
  video: { index: number; codec: string; width: number; height: number; fps: number } | undefined;
  audio: { index: number; codec: string; channels: number } | undefined;
  subtitles: { index: number; codec: string; language: string | undefined; title: string | undefined }[];
}

const rate = (value: string | undefined) => {
  const [n, d] = (value ?? '0/1').split('/').map(Number);
  return n && d ? n / d : 0;
};

/** Runs ffprobe. An unreadable file or one without any stream fails unrecoverably. */
export async function probe(path: string, signal?: AbortSignal): Promise<MediaInfo> {
  let out: string;
  try {
    out = await run(tools.ffprobe, ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', path], {
      signal,
    });
  } catch (error) {
    if (error instanceof ToolError) throw new UnrecoverableError(`not a readable media file: ${error.message}`);
    throw error;
  }
  const parsed = probeSchema.parse(JSON.parse(out));
  const streams = parsed.streams;
  const v = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic && (s.width ?? 0) > 0);
  const a = streams.find((s) => s.codec_type === 'audio');
  const fps = v ? rate(v.avg_frame_rate) || rate(v.r_frame_rate) || 25 : 0;
  return {
    durationSeconds: Number(parsed.format?.duration ?? 0),
    video: v
      ? { index: v.index, codec: v.codec_name ?? 'unknown', width: v.width ?? 0, height: v.height ?? 0, fps }
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
