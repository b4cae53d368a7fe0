// Test images made with sharp (and, for the oversized header, by hand): nothing is downloaded.
import { crc32 } from 'node:zlib';
import sharp from 'sharp';

const RED = { r: 220, g: 20, b: 20 };
const BLUE = { r: 20, g: 20, b: 220 };

/**
 * A 600x400 JPEG stored sideways with EXIF orientation 6 and a camera tag:
 * red on the stored left, blue on the right, so it displays as 400x600 with
 * red on top and blue below.
 */
export async function sidewaysJpeg(): Promise<Buffer> {
  const left = await sharp({ create: { width: 300, height: 400, channels: 3, background: RED } })
    .png()
    .toBuffer();
  return sharp({ create: { width: 600, height: 400, channels: 3, background: BLUE } })
    .composite([{ input: left, left: 0, top: 0 }])
    .jpeg({ quality: 90 })
    .withMetadata({ orientation: 6 })
    .withExifMerge({ IFD0: { Make: 'nself-tv-test', Model: 'sideways' } })
    .toBuffer();
}

/** A 500x300 PNG, half transparent: the left half opaque green, the right half clear. */
export async function alphaPng(): Promise<Buffer> {
  const green = await sharp({
    create: { width: 250, height: 300, channels: 4, background: { r: 0, g: 200, b: 0, alpha: 1 } },
  })
    .png()
    .toBuffer();
  return sharp({ create: { width: 500, height: 300, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
    .composite([{ input: green, left: 0, top: 0 }])
    .png()
    .toBuffer();
}

/** A 1x1 white PNG. */
export const onePixelPng = () =>
  sharp({ create: { width: 1, height: 1, channels: 3, background: '#ffffff' } })
    .png()
    .toBuffer();

/** A photo-like `width`x`height` image (noise over a gradient), hard to compress. */
export async function noisyImage(width: number, height: number, format: 'jpeg' | 'png' = 'jpeg'): Promise<Buffer> {
  const gradient = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      gradient[i] = (x * 255) / width;
      gradient[i + 1] = (y * 255) / height;
      gradient[i + 2] = 128;
    }
  const noise = await sharp({
    create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 0, sigma: 24 } },
  })
    .raw()
    .toBuffer();
  const pipeline = sharp(gradient, { raw: { width, height, channels: 3 } }).composite([
    { input: noise, raw: { width, height, channels: 3 }, blend: 'add' },
  ]);
  return format === 'png'
    ? pipeline.png({ compressionLevel: 1 }).toBuffer()
    : pipeline.jpeg({ quality: 92 }).toBuffer();
}

/**
 * A tiny valid PNG whose header declares `width`x`height` (a decompression
 * bomb's shape: a few bytes that would decode to gigabytes).
 */
export async function hugeDeclaredPng(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await onePixelPng());
  // IHDR data starts after the 8-byte signature, the chunk length (4) and the type (4).
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** The first half of a JPEG: a valid header, then the data stops. */
export const truncated = (jpeg: Buffer) => jpeg.subarray(0, Math.floor(jpeg.length / 2));
