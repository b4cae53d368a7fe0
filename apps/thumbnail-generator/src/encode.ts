import type { Sharp } from 'sharp';

/** Output formats the image workers write. */
export type OutputFormat = 'webp' | 'avif' | 'jpeg' | 'png';

/** File extension of a format. */
export const extensionOf = (format: OutputFormat): string => (format === 'jpeg' ? 'jpg' : format);

/**
 * Sets the encoder: WebP and AVIF at `quality`, JPEG through mozjpeg (smaller
 * files at the same quality), PNG at the highest zlib level; a PNG quality below
 * 100 quantises to a palette (lossy, like pngquant), 100 keeps it lossless.
 * Metadata is not kept: sharp strips EXIF, XMP and IPTC unless asked.
 */
export function encodeAs(pipeline: Sharp, format: OutputFormat, quality: number): Sharp {
  switch (format) {
    case 'webp':
      return pipeline.webp({ quality });
    case 'avif':
      return pipeline.avif({ quality, effort: 4 });
    case 'jpeg':
      // JPEG has no alpha: transparent pixels become black, the player's background.
      return pipeline.flatten({ background: '#000000' }).jpeg({ quality, mozjpeg: true });
    case 'png':
      return quality < 100
        ? pipeline.png({ compressionLevel: 9, palette: true, quality })
        : pipeline.png({ compressionLevel: 9 });
  }
}
