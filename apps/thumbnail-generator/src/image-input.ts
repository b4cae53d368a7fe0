import { MediaError } from '@nself-tv/media-tools';
import type { MediaStorage } from '@nself-tv/storage';
import sharp, { type Metadata, type OutputInfo, type Sharp, type SharpOptions } from 'sharp';

/** Limits applied to every source image. */
export interface ImageLimits {
  /**
   * Largest width × height accepted, as declared by the file. Larger files are
   * refused before decoding: a small file can declare a huge size
   * (decompression bomb). @default 100_000_000
   */
  maxInputPixels: number;
  /** Largest source file in bytes; images are read whole into memory. @default 268_435_456 (256 MiB) */
  maxInputBytes: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = { maxInputPixels: 100_000_000, maxInputBytes: 256 * 1024 * 1024 };

/** A source image that passed the checks, with its size after EXIF orientation. */
export interface SourceImage {
  bytes: Buffer;
  format: string;
  /** Width and height as displayed (EXIF orientation applied). */
  width: number;
  height: number;
  /** A fresh sharp pipeline on the bytes, EXIF orientation applied, metadata to be stripped. */
  pipeline(): Sharp;
}

/** The reason a job's input is refused (a coded media error, so the job fails once, without retries). */
const refuse = (code: 'NOT_MEDIA' | 'INPUT_TOO_LARGE' | 'NOT_DECODABLE', what: string, reason: string) =>
  new MediaError(code, `${what}: ${reason}`);

/**
 * Reads an image from storage and checks it before any decoding: a known image
 * format, a declared size within the pixel limit, not empty. Every refusal is
 * a `MediaError` (`INPUT_TOO_LARGE` or `NOT_MEDIA`), final under the retry policy.
 */
export async function loadImage(
  storage: MediaStorage,
  location: { bucket: string; key: string },
  limits: ImageLimits,
): Promise<SourceImage> {
  const what = `${location.bucket}/${location.key}`;
  const size = (await storage.stat(location))?.bytes;
  if (size !== undefined && size > limits.maxInputBytes) {
    throw refuse('INPUT_TOO_LARGE', what, `the file is ${size} bytes, over the limit of ${limits.maxInputBytes}`);
  }
  const bytes = await storage.read(location);
  const options: SharpOptions = { limitInputPixels: limits.maxInputPixels, failOn: 'error' };
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { ...options, limitInputPixels: false }).metadata();
  } catch (error) {
    throw refuse('NOT_MEDIA', what, `not an image (${(error as Error).message})`);
  }
  const declared = (meta.width ?? 0) * (meta.height ?? 0);
  if (declared <= 0) throw refuse('NOT_MEDIA', what, 'the image has no size');
  if (declared > limits.maxInputPixels) {
    throw refuse(
      'INPUT_TOO_LARGE',
      what,
      `declares ${meta.width}x${meta.height} = ${declared} pixels, over the limit of ${limits.maxInputPixels}`,
    );
  }
  return {
    bytes,
    format: meta.format,
    width: meta.autoOrient.width,
    height: meta.autoOrient.height,
    pipeline: () => sharp(bytes, { ...options, autoOrient: true }),
  };
}

/**
 * Runs a sharp pipeline that ends in a buffer. A failure there comes from
 * decoding the source or encoding the result, never from the outside world,
 * so retrying cannot help: it is `NOT_DECODABLE`, final under the retry policy.
 */
export async function render(what: string, pipeline: Sharp): Promise<{ data: Buffer; info: OutputInfo }> {
  try {
    return await pipeline.toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw refuse('NOT_DECODABLE', what, `cannot be decoded (${(error as Error).message})`);
  }
}
