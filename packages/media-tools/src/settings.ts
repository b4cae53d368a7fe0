import { defineSettings, wholeNumber } from '@nself-tv/service/settings';
import { z } from 'zod';
import { DEFAULT_MAX_MEMORY_MB, type ToolSettings } from './ffmpeg.js';
import { DEFAULT_MAX_VIDEO_PIXELS } from './probe.js';

/** What {@link mediaToolSettings} reads: the tools to run and the largest frame accepted. */
export interface MediaToolValues {
  tools: ToolSettings;
  /** Largest video frame accepted, width × height as declared. */
  maxVideoPixels: number;
}

/** The limits processors apply to their inputs, from {@link mediaToolSettings} (`MAX_VIDEO_PIXELS`). */
export type MediaLimits = Pick<MediaToolValues, 'maxVideoPixels'>;

/** The variables of every app that runs ffmpeg; pass `tools` to `configureTools`. */
export const mediaToolSettings = defineSettings(
  'Media tools (the worker apps)',
  {
    FFMPEG_PATH: z.string().default('ffmpeg').meta({ description: 'The ffmpeg binary.', shown: 'from `PATH`' }),
    FFPROBE_PATH: z.string().default('ffprobe').meta({ description: 'The ffprobe binary.', shown: 'from `PATH`' }),
    TESSERACT_PATH: z
      .string()
      .default('tesseract')
      .meta({ description: 'The tesseract binary that reads picture subtitles (OCR).', shown: 'from `PATH`' }),
    FFMPEG_MAX_MEMORY_MB: wholeNumber(256, 1_048_576)
      .default(DEFAULT_MAX_MEMORY_MB)
      .meta({ description: 'Memory cap of each ffmpeg/ffprobe run, MiB.' }),
    MAX_VIDEO_PIXELS: wholeNumber(64, 1_000_000_000).default(DEFAULT_MAX_VIDEO_PIXELS).meta({
      description: 'Largest video frame (8K UHD), width x height as declared; larger sources fail before decoding.',
    }),
  },
  (v): MediaToolValues => ({
    tools: {
      ffmpeg: v.FFMPEG_PATH,
      ffprobe: v.FFPROBE_PATH,
      tesseract: v.TESSERACT_PATH,
      maxMemoryMb: v.FFMPEG_MAX_MEMORY_MB,
    },
    maxVideoPixels: v.MAX_VIDEO_PIXELS,
  }),
);
