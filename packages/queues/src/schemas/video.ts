import { z } from 'zod';
import { languageTag, mediaFields, outputLocation, storageLocation } from './common.js';

/** Rungs of the HLS ladder, by name. */
export const RENDITION_NAMES = ['240p', '360p', '480p', '720p', '1080p', '2160p'] as const;
export type RenditionName = (typeof RENDITION_NAMES)[number];

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
  })
  .strict();

/** `video:transcode` result. */
export const transcodeResult = z
  .object({
    masterPlaylistKey: z.string(),
    durationSeconds: z.number().nonnegative(),
    source: z.object({ width: z.number().int(), height: z.number().int(), codec: z.string(), hasAudio: z.boolean() }),
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
    /** Absent when no frame could be taken from the video (a result names only what exists). */
    stillFrameKey: z.string().optional(),
  })
  .strict();

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

/** `video:subtitle` payload. */
export const subtitlePayload = z
  .object({
    ...mediaFields,
    source: storageLocation,
    output: outputLocation,
    sidecars: z
      .array(
        z
          .object({
            bucket: storageLocation.shape.bucket,
            key: storageLocation.shape.key,
            language: languageTag.optional(),
          })
          .strict(),
      )
      .max(100)
      .optional(),
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
      }),
    ),
    skipped: z.array(z.object({ streamIndex: z.number().int().nonnegative(), codec: z.string(), reason: z.string() })),
  })
  .strict();
