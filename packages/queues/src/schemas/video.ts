import { z } from 'zod';
import { languageTag, mediaFields, outputLocation, storageLocation } from './common.js';

/** Rungs of the HLS ladder, by name. */
export const RENDITION_NAMES = ['240p', '360p', '480p', '720p', '1080p', '2160p'] as const;
export type RenditionName = (typeof RENDITION_NAMES)[number];

/**
 * Most thumbnails one trickplay or sprite job makes (100 sheets of 10x10). When
 * the source is long enough that `intervalSeconds` would make more, the
 * interval is widened to fit, and the result reports the interval used.
 */
export const MAX_THUMBNAILS = 10_000;
/** Shortest thumbnail interval, in seconds; players show one thumbnail per few seconds. */
export const MIN_THUMBNAIL_INTERVAL_SECONDS = 0.5;

/** Seconds between thumbnails. */
export const thumbnailInterval = z
  .number()
  .min(MIN_THUMBNAIL_INTERVAL_SECONDS, `must be at least ${MIN_THUMBNAIL_INTERVAL_SECONDS}`)
  .max(600, 'must be at most 600');

/** `video:transcode` payload. Without `renditions`, every rung that fits the source is made. */
export const transcodePayload = z
  .object({
    ...mediaFields,
    source: storageLocation,
    output: outputLocation,
    renditions: z
      .array(z.enum(RENDITION_NAMES))
      .min(1, 'must name at least one rendition')
      .refine((r) => new Set(r).size === r.length, 'must not repeat a rendition')
      .optional(),
    /**
     * Thumbnails taken from the same decode as the ladder, so an ingest decodes
     * its source once: trickplay sheets and `trickplay.vtt` under
     * `<prefix>trickplay/` (as the trickplay job makes them), and 320x180 frames
     * under `<prefix>frames/` for the sprite stage. The ingest asks for both.
     */
    thumbnails: z
      .object({
        trickplayIntervalSeconds: thumbnailInterval.optional(),
        frameIntervalSeconds: thumbnailInterval.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** `video:trickplay` payload. */
export const trickplayPayload = z
  .object({
    ...mediaFields,
    source: storageLocation,
    output: outputLocation,
    intervalSeconds: thumbnailInterval.default(5),
  })
  .strict();

/** One sprite sheet of thumbnails. */
export const spriteSheet = z.object({
  key: z.string(),
  index: z.number().int().nonnegative(),
  firstThumbnail: z.number().int().nonnegative(),
  lastThumbnail: z.number().int().nonnegative(),
  columns: z.number().int().positive(),
  rows: z.number().int().positive(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
});

/** `video:trickplay` result. */
export const trickplayResult = z
  .object({
    vttKey: z.string(),
    sheets: z.array(spriteSheet),
    thumbnailCount: z.number().int().nonnegative(),
    intervalSeconds: z.number().positive(),
    thumbWidth: z.number().int().positive(),
    thumbHeight: z.number().int().positive(),
    durationSeconds: z.number().nonnegative(),
  })
  .strict();

/** An EBU R128 measurement. */
const loudness = z.object({
  integrated: z.number(),
  range: z.number(),
  truePeak: z.number().nullable(),
});

/** `video:transcode` result. */
export const transcodeResult = z
  .object({
    masterPlaylistKey: z.string(),
    durationSeconds: z.number().nonnegative(),
    /** What the probe found: display size (SAR and rotation applied), orientation, colour, fields. */
    source: z.object({
      width: z.number().int(),
      height: z.number().int(),
      codec: z.string(),
      hasAudio: z.boolean(),
      codedWidth: z.number().int(),
      codedHeight: z.number().int(),
      sampleAspectRatio: z.number().positive(),
      rotation: z.union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)]),
      hflip: z.boolean(),
      vflip: z.boolean(),
      /** `smpte2084` (PQ) or `arib-std-b67` (HLG) when the source was HDR and was tone-mapped. */
      hdr: z.string().nullable(),
      colour: z.object({
        primaries: z.string().nullable(),
        transfer: z.string().nullable(),
        matrix: z.string().nullable(),
      }),
      bitDepth: z.number().int().positive(),
      fieldOrder: z.enum(['progressive', 'tff', 'bff', 'unknown']),
      deinterlaced: z.boolean(),
      /** The constant frame rate of the outputs. */
      fps: z.number().positive(),
      audioTracks: z.number().int().nonnegative(),
      /**
       * Whether the top rung is the source's own video, stream-copied; when not, every reason
       * (a stable code and the detail), `DISABLED` when `TRANSCODE_COPY` is off.
       */
      videoCopy: z.object({
        copied: z.boolean(),
        reasons: z.array(z.object({ code: z.string(), detail: z.string() })),
        /**
         * The copied stream's colour description: `source` (its own), or `bt709` / `bt601` written
         * into its VUI without re-encoding because it had none; null when nothing was copied.
         */
        colourTags: z.enum(['source', 'bt709', 'bt601']).nullable(),
      }),
    }),
    renditions: z.array(
      z.object({
        name: z.enum(RENDITION_NAMES),
        width: z.number().int().positive(),
        height: z.number().int().positive(),
        playlistKey: z.string(),
        bandwidth: z.number().int().positive(),
        averageBandwidth: z.number().int().positive(),
        videoBitrate: z.number().int().positive(),
        audioBitrate: z.number().int().nonnegative(),
        segmentCount: z.number().int().nonnegative(),
        bytes: z.number().int().nonnegative(),
      }),
    ),
    /** Every audio track as an HLS alternate rendition of the `audio` group. */
    audioTracks: z.array(
      z.object({
        name: z.string(),
        language: z.string().nullable(),
        default: z.boolean(),
        sourceChannels: z.number().int().positive(),
        /** The source's AAC-LC (mono or stereo) as it is; false: encoded as stereo AAC. */
        copied: z.boolean(),
        /** Why the stereo rendition was encoded rather than copied; null when copied. */
        copyRefusal: z.string().nullable(),
        /** EBU R128 of the source track, as it is (LUFS, LU, dBTP; true peak null for silence). */
        loudness: loudness.nullable(),
        /** How the stereo rendition was brought to the target (`AUDIO_LOUDNESS`); null when it was not. */
        levelling: z
          .object({
            targetLufs: z.number(),
            truePeakCeiling: z.number(),
            /** The one gain of the whole track, dB. */
            gainDb: z.number(),
            /** Whether a true-peak limiter took down the peaks that gain would have put over the ceiling. */
            limited: z.boolean(),
            /**
             * The true peak of the rendition as stored, measured (dBTP; null for silence): at most
             * `truePeakCeiling`, since a rendition over it is encoded again with the limiter lower.
             */
            storedTruePeak: z.number().nullable().optional(),
            /** The stereo signal (after any downmix) before the gain. */
            before: loudness,
          })
          .nullable(),
        /** The stereo downmix of a surround track (`AUDIO_DOWNMIX`); null for mono and stereo tracks. */
        downmix: z.enum(['dialogue', 'itu']).nullable(),
        /** The multichannel rendition of a 5.1/7.1 track (`AUDIO_SURROUND`), in the `audio-mc` group. */
        surround: z
          .object({
            codec: z.enum(['ac-3', 'ec-3']),
            channels: z.number().int().positive(),
            /** The source's own AC-3/E-AC-3 as it is. */
            copied: z.boolean(),
            playlistKey: z.string(),
          })
          .nullable(),
        playlistKey: z.string(),
      }),
    ),
    /** Absent when no frame could be taken from the video (a result names only what exists). */
    stillFrameKey: z.string().optional(),
    /** The trickplay result, when `thumbnails.trickplayIntervalSeconds` asked for it. */
    trickplay: trickplayResult.optional(),
    /** Frames for sprites, one every `intervalSeconds` from 0, when `thumbnails.frameIntervalSeconds` asked. */
    frames: z
      .object({
        intervalSeconds: z.number().positive(),
        width: z.number().int().positive(),
        height: z.number().int().positive(),
        keys: z.array(z.string()),
      })
      .optional(),
  })
  .strict();

/** Whether `label` names a charset this runtime decodes (WHATWG labels: `windows-1251`, `gbk`, `shift_jis`…). */
export function isCharset(label: string): boolean {
  try {
    new TextDecoder(label);
    return true;
  } catch {
    return false;
  }
}

/** A subtitle file that goes with a film (a sidecar): where it is and what it is. */
export const sidecarFile = z
  .object({
    bucket: storageLocation.shape.bucket,
    key: storageLocation.shape.key,
    language: languageTag.optional(),
    /** Shown only where the film's own language is not understood (signs, foreign lines): HLS `FORCED`. */
    forced: z.boolean().optional(),
    /** Subtitles for the deaf and hard of hearing (sounds and speakers named). */
    hearingImpaired: z.boolean().optional(),
    /** The track's name in players; else the language's name. */
    label: z.string().min(1).max(100).optional(),
    /**
     * The file's charset when it is not UTF-8 (`windows-1256`, `gbk`…); else it is detected,
     * then `SUBTITLE_CHARSET`. A BOM always wins.
     */
    charset: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{2,40}$/)
      .refine(isCharset, { message: 'not a charset this worker decodes' })
      .optional(),
  })
  .strict();
export type SidecarFile = z.infer<typeof sidecarFile>;

/** `video:subtitle` payload. */
export const subtitlePayload = z
  .object({
    ...mediaFields,
    source: storageLocation,
    output: outputLocation,
    sidecars: z.array(sidecarFile).max(100).optional(),
    /**
     * The HLS master of the same media: each track then also gets a WebVTT
     * media playlist, and the master is rewritten (atomically) to list them
     * as its subtitles group. The ingest sets it.
     */
    masterPlaylist: storageLocation.optional(),
  })
  .strict();

/** `video:subtitle` result. */
export const subtitleResult = z
  .object({
    tracks: z.array(
      z.object({
        key: z.string(),
        language: z.string(),
        label: z.string(),
        origin: z.enum(['embedded', 'sidecar']),
        streamIndex: z.number().int().nonnegative().optional(),
        cueCount: z.number().int().nonnegative(),
        default: z.boolean().optional(),
        forced: z.boolean().optional(),
        /** The track's WebVTT media playlist, when a master was given. */
        playlistKey: z.string().optional(),
        /** A picture track (PGS, VobSub, DVB) read by OCR: tesseract's language. */
        ocrLanguage: z.string().optional(),
        /** A sidecar for the deaf and hard of hearing, as the payload said. */
        hearingImpaired: z.boolean().optional(),
        /** A sidecar's format as read from its content (`srt`, `webvtt`, `ass`, `ssa`, `microdvd`). */
        format: z.string().optional(),
        /** The charset a sidecar was read in (`utf-8`, `windows-1252`, `gbk`…). */
        charset: z.string().optional(),
      }),
    ),
    /**
     * Streams and sidecar files not converted: a stable code (`OCR_NO_LANGUAGE`, `UNSUPPORTED_CODEC`,
     * `SIDECAR_UNSUPPORTED_FORMAT`…) and why. A stream has its index, a sidecar its key.
     */
    skipped: z.array(
      z.object({
        streamIndex: z.number().int().nonnegative().optional(),
        sidecarKey: z.string().optional(),
        codec: z.string(),
        code: z.string(),
        reason: z.string(),
      }),
    ),
  })
  .strict();
