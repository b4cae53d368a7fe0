import { z } from 'zod';
import { bucketName, mediaFields, objectKey, outputLocation, storageLocation } from './common.js';
import { MAX_THUMBNAILS, spriteSheet, thumbnailInterval } from './video.js';

export const IMAGE_FORMATS = ['webp', 'avif', 'jpeg'] as const;
export const OPTIMIZE_FORMATS = ['webp', 'jpeg', 'png', 'avif'] as const;

/** Largest sprite sheet: each side and the whole area (a sheet is held raw in memory while it is laid out). */
export const MAX_SHEET_SIDE = 8192;
export const MAX_SHEET_PIXELS = 4096 * 4096;
/** Latest thumbnail time accepted: a week, longer than any recording. */
const MAX_TIMESTAMP_SECONDS = 7 * 24 * 3600;

const width = z.number().int().min(16, 'must be at least 16').max(8192, 'must be at most 8192');

/** `image:poster` payload. */
export const posterPayload = z
  .object({
    ...mediaFields,
    source: storageLocation,
    output: outputLocation,
    widths: z
      .array(width)
      .min(1)
      .max(10)
      .refine((w) => new Set(w).size === w.length, 'must not repeat a width')
      .default([100, 400, 1200]),
    formats: z
      .array(z.enum(IMAGE_FORMATS))
      .min(1)
      .refine((f) => new Set(f).size === f.length, 'must not repeat a format')
      .default(['webp']),
    quality: z.number().int().min(1).max(100).default(85),
  })
  .strict();

/** `image:poster` result. */
export const posterResult = z
  .object({
    outputs: z.array(
      z.object({
        key: z.string(),
        width: z.number().int().positive(),
        height: z.number().int().positive(),
        format: z.enum(IMAGE_FORMATS),
        bytes: z.number().int().positive(),
      }),
    ),
  })
  .strict();

/** `image:sprite` payload: from a video and an interval, or from a list of timed images. */
export const spritePayload = z
  .object({
    ...mediaFields,
    output: outputLocation,
    video: storageLocation.optional(),
    images: z
      .array(
        z
          .object({
            bucket: bucketName,
            key: objectKey,
            timestamp: z.number().nonnegative().max(MAX_TIMESTAMP_SECONDS, 'must be at most a week'),
          })
          .strict(),
      )
      .min(1)
      .max(MAX_THUMBNAILS)
      .optional(),
    intervalSeconds: thumbnailInterval.default(5),
    columns: z.number().int().min(1).max(50).default(10),
    rows: z.number().int().min(1).max(50).default(10),
    thumbWidth: z.number().int().min(16).max(1920).default(320),
    thumbHeight: z.number().int().min(16).max(1080).default(180),
  })
  .strict()
  .superRefine((value, ctx) => {
    if ((value.video === undefined) === (value.images === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['video'], message: 'exactly one of video and images must be given' });
    }
    const sheetWidth = value.columns * value.thumbWidth;
    const sheetHeight = value.rows * value.thumbHeight;
    if (sheetWidth > MAX_SHEET_SIDE || sheetHeight > MAX_SHEET_SIDE || sheetWidth * sheetHeight > MAX_SHEET_PIXELS) {
      ctx.addIssue({
        code: 'custom',
        path: ['columns'],
        message: `a sheet of ${sheetWidth}x${sheetHeight} is too large: at most ${MAX_SHEET_SIDE} a side and ${MAX_SHEET_PIXELS} pixels`,
      });
    }
  });

/** `image:sprite` result. */
export const spriteResult = z
  .object({
    vttKey: z.string(),
    sheets: z.array(spriteSheet),
    thumbnailCount: z.number().int().nonnegative(),
    thumbWidth: z.number().int().positive(),
    thumbHeight: z.number().int().positive(),
    /** Seconds between thumbnails taken from a video (wider than asked when the video is long). */
    intervalSeconds: z.number().positive().optional(),
  })
  .strict();

/** `image:optimize` payload. With `force`, the chosen format is kept even when it is larger. */
export const optimizePayload = z
  .object({
    source: storageLocation,
    output: storageLocation,
    format: z.enum(OPTIMIZE_FORMATS).default('webp'),
    quality: z.number().int().min(1).max(100).default(85),
    force: z.boolean().default(false),
    mediaId: mediaFields.mediaId.optional(),
    familyId: mediaFields.familyId.optional(),
  })
  .strict();

/** `image:optimize` result. */
export const optimizeResult = z
  .object({
    key: z.string(),
    format: z.string(),
    originalBytes: z.number().int().nonnegative(),
    optimizedBytes: z.number().int().nonnegative(),
    savingsPercent: z.number(),
    keptOriginal: z.boolean(),
  })
  .strict();
