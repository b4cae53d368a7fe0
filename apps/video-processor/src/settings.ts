import { isCharset } from '@nself-tv/queues';
import { defineSettings, flag } from '@nself-tv/service/settings';
import { z } from 'zod';
import type { TranscodeOptions } from './plan-transcode.js';
import { DEFAULT_SUBTITLE_CHARSET } from './sidecar.js';

/** What {@link videoSettings} reads. */
export interface VideoValues {
  transcode: Required<TranscodeOptions>;
  /** Read picture subtitles (PGS, VobSub, DVB) by OCR. */
  subtitleOcr: boolean;
  /** The charset of a subtitle file that is neither UTF-8 nor detected. */
  subtitleCharset: string;
}

/** The video-processor's own variables: how it transcodes, levels the sound and reads subtitles. */
export const videoSettings = defineSettings(
  'video-processor',
  {
    TRANSCODE_CHUNK_SECONDS: z
      .string()
      .default('60')
      .refine((v) => /^\d{1,3}$/.test(v) && (Number(v) === 0 || (Number(v) >= 4 && Number(v) <= 600)), {
        message: 'must be 0 (one pass) or 4 to 600',
      })
      .transform(Number)
      .meta({
        description:
          'Source seconds per transcode chunk job (4–600, or 0 for one pass over the whole film); the first chunk is 8 s and each next one twice the last up to this, so a film is playable soon; each chunk has the transcode timeout to itself.',
      }),
    // `off`: every rung at its fixed bitrate; a CRF: that quality target (a little finer on the small
    // rungs), the rung's bitrate its cap. 21 keeps every rung within 0.002 SSIM of the fixed rate.
    TRANSCODE_CRF: z
      .string()
      .default('21')
      .refine((v) => v === 'off' || (/^\d{1,2}$/.test(v) && Number(v) >= 1 && Number(v) <= 51), {
        message: 'must be off or a CRF from 1 to 51',
      })
      .transform((v) => (v === 'off' ? null : Number(v)))
      .meta({
        description:
          "A CRF (1–51) encodes each rung at that constant quality (finer on the small rungs), capped at the rung's bitrate; `off` encodes each rung at its fixed bitrate.",
      }),
    TRANSCODE_COPY: flag(true).meta({
      description:
        "`on` makes a source's H.264 that every browser plays its own top rung (stream copy) and copies AAC-LC mono/stereo audio when loudness is off; `off` encodes everything.",
    }),
    // EBU R128 target of every stereo rendition, LUFS, or `off`: -18 is in the range AES TD1004
    // gives for streaming (-16 to -20) and low enough that most films reach it by one fixed gain.
    AUDIO_LOUDNESS: z
      .string()
      .default('-18')
      .refine((v) => v === 'off' || (/^-\d{1,2}(\.\d)?$/.test(v) && Number(v) >= -40 && Number(v) <= -5), {
        message: 'must be off or a loudness from -40 to -5 (LUFS)',
      })
      .transform((v) => (v === 'off' ? null : Number(v)))
      .meta({ description: 'Every stereo rendition brought to this loudness (LUFS, or `off`) by one fixed gain.' }),
    AUDIO_TRUE_PEAK: z
      .string()
      .default('-1')
      .refine((v) => /^-?\d(\.\d)?$/.test(v) && Number(v) >= -9 && Number(v) <= 0, {
        message: 'must be a true peak from -9 to 0 (dBTP)',
      })
      .transform(Number)
      .meta({ description: 'The true-peak ceiling of the levelled stereo (dBTP).' }),
    AUDIO_DOWNMIX: z.enum(['dialogue', 'itu'], { message: 'must be dialogue or itu' }).default('dialogue').meta({
      description: 'The stereo downmix of surround tracks: `dialogue` keeps the centre at full level, `itu` is BS.775.',
    }),
    AUDIO_SURROUND: z
      .enum(['ac3', 'eac3', 'off'], { message: 'must be ac3, eac3 or off' })
      .default('ac3')
      .transform((v) => (v === 'off' ? null : v))
      .meta({ description: 'The multichannel rendition of surround tracks: `ac3`, `eac3` or `off`.' }),
    SUBTITLE_OCR: flag(true).meta({
      description: 'PGS, VobSub and DVB subtitles read by tesseract into WebVTT; `off` skips them.',
    }),
    SUBTITLE_CHARSET: z
      .string()
      .default(DEFAULT_SUBTITLE_CHARSET)
      .refine(isCharset, {
        message: 'must be a charset label (windows-1252, iso-8859-2, windows-1251, gbk, big5, shift_jis…)',
      })
      .meta({
        description:
          'The charset of a sidecar subtitle file with no BOM, not valid UTF-8 and no charset detected with confidence.',
      }),
  },
  (v): VideoValues => ({
    transcode: {
      chunkSeconds: v.TRANSCODE_CHUNK_SECONDS,
      crf: v.TRANSCODE_CRF,
      copy: v.TRANSCODE_COPY,
      audio: {
        loudness: v.AUDIO_LOUDNESS,
        truePeak: v.AUDIO_TRUE_PEAK,
        downmix: v.AUDIO_DOWNMIX,
        surround: v.AUDIO_SURROUND,
      },
    },
    subtitleOcr: v.SUBTITLE_OCR,
    subtitleCharset: v.SUBTITLE_CHARSET,
  }),
);
