import { even } from '@nself-tv/media-tools';
import type { RenditionName } from '@nself-tv/queues';

/** One rung of the HLS ladder: its box (long × short side) and video bitrate for that box. */
export interface Rung {
  readonly name: RenditionName;
  readonly long: number;
  readonly short: number;
  readonly videoKbps: number;
}

/** The platform's HLS ladder (r240 426x240 … r1080 1920x1080, r2160 3840x2160), as the web player expects it. */
export const LADDER: readonly Rung[] = [
  { name: '240p', long: 426, short: 240, videoKbps: 400 },
  { name: '360p', long: 640, short: 360, videoKbps: 800 },
  { name: '480p', long: 854, short: 480, videoKbps: 1400 },
  { name: '720p', long: 1280, short: 720, videoKbps: 2800 },
  { name: '1080p', long: 1920, short: 1080, videoKbps: 5000 },
  { name: '2160p', long: 3840, short: 2160, videoKbps: 14000 },
];

/** A rung sized for one source. */
export interface PlannedRendition {
  readonly name: RenditionName;
  readonly width: number;
  readonly height: number;
  readonly videoKbps: number;
}

/**
 * Chooses and sizes the rungs for a `width`×`height` source.
 *
 * - A rung's box follows the source's orientation (portrait sources get
 *   portrait boxes), and a rung is kept when the source fills its box in at
 *   least one dimension, so a 1920×800 film keeps 1080p.
 * - The picture is scaled to fit inside the box with its aspect ratio kept,
 *   never enlarged, with even dimensions for H.264.
 * - The bitrate scales with the pixels actually encoded.
 * - A source between two boxes (a DVD's 1024x576, a phone's 560x320, 800x600) is not cut down
 *   to the box below: its own size (even, never enlarged) is the top rung, under the name of the
 *   box above, with that box's bitrate scaled to its pixels; the rungs below stay the ladder's. It
 *   is added when it has at least {@link OWN_SIZE_MARGIN} times the pixels of the rung below, so a
 *   source a few lines over a box (1300x730) is not encoded twice at nearly the same size. A
 *   source smaller than the lowest box gets the one rendition at its own size the same way.
 */
export function planLadder(width: number, height: number, only?: readonly RenditionName[]): PlannedRendition[] {
  if (!(width > 0 && height > 0)) throw new RangeError(`bad source size ${width}x${height}`);
  const landscape = width >= height;
  const srcLong = Math.max(width, height);
  const srcShort = Math.min(width, height);
  const rungs = LADDER.filter((r) => (only ? only.includes(r.name) : true));
  const plan: PlannedRendition[] = [];
  for (const rung of rungs) {
    const fits = srcLong >= rung.long || srcShort >= rung.short;
    if (!fits) continue;
    const boxW = landscape ? rung.long : rung.short;
    const boxH = landscape ? rung.short : rung.long;
    const scale = Math.min(boxW / width, boxH / height, 1);
    const w = even(width * scale);
    const h = even(height * scale);
    const pixels = (w * h) / (rung.long * rung.short);
    plan.push({
      name: rung.name,
      width: w,
      height: h,
      videoKbps: Math.max(100, Math.round(rung.videoKbps * Math.min(1, pixels))),
    });
  }
  // Several rungs can come out the same size for an odd source; keep the first of each size.
  const unique = plan.filter((p, i) => plan.findIndex((q) => q.width === p.width && q.height === p.height) === i);
  const above = rungs.find((r) => !(srcLong >= r.long || srcShort >= r.short));
  const below = unique[unique.length - 1];
  const own = { width: even(width), height: even(height) };
  if (above && (!below || own.width * own.height >= OWN_SIZE_MARGIN * below.width * below.height)) {
    const pixels = (own.width * own.height) / (above.long * above.short);
    unique.push({ name: above.name, ...own, videoKbps: Math.max(100, Math.round(above.videoKbps * pixels)) });
  }
  return unique;
}

/** How many times the pixels of the rung below a source's own size must have to become a rung of its own. */
export const OWN_SIZE_MARGIN = 1.2;
