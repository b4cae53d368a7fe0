import type { AudioTrack, H264Sps, Matrix, VideoInfo, VideoPackets } from '@nself-tv/media-tools';
import type { PlannedRendition } from './ladder.js';

/**
 * Whether a source's own streams can go into the HLS as they are. A video stream that every
 * browser already decodes becomes the top rung by stream copy: no generation loss, and the
 * costliest rung is not encoded at all. Its segments are cut at its own keyframes, and every
 * encoded rung is given keyframes at exactly those times, so the rungs stay aligned segment by
 * segment (a player switching rungs lands on the same picture).
 */

/** Why a video stream is encoded rather than copied; a stable code and the detail. */
export type CopyRefusalCode =
  | 'DISABLED'
  | 'CODEC'
  | 'PROFILE'
  | 'LEVEL'
  | 'PIXEL_FORMAT'
  | 'INTERLACED'
  | 'HDR'
  | 'ANAMORPHIC'
  | 'ORIENTATION'
  | 'SIZE'
  | 'FRAME_RATE'
  | 'KEYFRAMES'
  | 'OPEN_GOP'
  | 'TIMESTAMPS';

export interface CopyRefusal {
  code: CopyRefusalCode;
  detail: string;
}

/** The profiles every browser's H.264 decoder takes, by ffprobe's name. */
const PROFILES = new Set(['Constrained Baseline', 'Main', 'High']);
/** The highest level copied (5.2: 4K at 60 frames a second); decoders may refuse above. */
const MAX_LEVEL = 52;
/**
 * The longest gap between keyframes copied. Segments start on keyframes, so a segment lasts up to
 * 4 s plus a gap; 10.5 s takes x264's default (a keyframe at least every 250 frames) at 24 fps.
 */
export const MAX_KEYFRAME_GAP_SECONDS = 10.5;

/** The stream-level conditions: what the container and codec say, before any packet is read. */
export function streamRefusals(
  video: VideoInfo,
  top: PlannedRendition | undefined,
  deinterlace: string | false,
): CopyRefusal[] {
  const out: CopyRefusal[] = [];
  const no = (code: CopyRefusalCode, detail: string) => out.push({ code, detail });
  if (video.codec !== 'h264') no('CODEC', `${video.codec} is not H.264`);
  else if (!video.profile || !PROFILES.has(video.profile))
    no('PROFILE', `profile ${video.profile ?? 'unknown'} is not Constrained Baseline, Main or High`);
  if (video.codec === 'h264' && !(video.level !== undefined && video.level <= MAX_LEVEL))
    no('LEVEL', `level ${video.level === undefined ? 'unknown' : (video.level / 10).toFixed(1)} is above 5.2`);
  if (video.pixelFormat !== 'yuv420p' || video.colour.bitDepth !== 8)
    no('PIXEL_FORMAT', `${video.pixelFormat ?? 'an unknown pixel format'} is not 8-bit 4:2:0 (yuv420p)`);
  if (deinterlace !== false) no('INTERLACED', `the picture is interlaced (${deinterlace})`);
  if (video.colour.hdr || video.colour.primaries === 'bt2020')
    no('HDR', `the picture is ${video.colour.hdr ?? 'BT.2020'}, not SDR BT.709`);
  if (Math.abs(video.sampleAspectRatio - 1) > 1e-3)
    no('ANAMORPHIC', `pixels are not square (SAR ${video.sampleAspectRatio.toFixed(4)})`);
  const o = video.orientation;
  if (o.rotation !== 0 || o.hflip || o.vflip)
    no('ORIENTATION', `the picture is shown turned ${o.rotation}°${o.hflip || o.vflip ? ', mirrored' : ''}`);
  if (!top || top.width !== video.coded.width || top.height !== video.coded.height)
    no(
      'SIZE',
      `the top rung is ${top ? `${top.width}x${top.height}` : 'none'}, not the source's ${video.coded.width}x${video.coded.height}`,
    );
  return out;
}

/** The source's segmentation for copying: where each segment starts, by output frame number. */
export interface CopyPlan {
  /** Output frame number (PTS at the constant rate, 0 at the file's start) of each segment's first frame. */
  boundaries: number[];
  /** Output frame number after the last frame: where the film's last segment ends. */
  endFrame: number;
  /** `avc1` CODECS of the copied stream: profile, constraint flags and level from its own SPS bytes. */
  codec: string;
  /**
   * The colour description of the copied stream: `source` when its SPS has one (kept as it is),
   * else the one written into its VUI by `h264_metadata` (no re-encode), the same reading the
   * encoded rungs are converted from (untagged: BT.601 below 720 lines, BT.709 from 720 up).
   */
  colourTags: 'source' | 'bt709' | 'bt601';
  /** Peak video bit rate of the planned segments (bit/s), from the packet sizes. */
  peakBitrate: number;
  /** Seconds the source's frames are after the output grid (under half a frame): the encoded rungs are moved by it. */
  phase: number;
}

/**
 * Plans segments on the source's keyframes (the first keyframe at least 4 s after the segment
 * before began), or says why the packets cannot be copied: not at a constant rate, keyframes too
 * far apart, leading pictures that reach into the GOP before (open GOP), timestamps missing.
 */
export function planCopy(
  packets: VideoPackets,
  video: VideoInfo,
  fileStart: number,
  segmentSeconds: number,
  sps: H264Sps,
  matrix: Matrix,
): { plan: CopyPlan; refusals: [] } | { plan: undefined; refusals: CopyRefusal[] } {
  const fps = video.fps;
  const refusals: CopyRefusal[] = [];
  const count = packets.pts.length;
  if (count === 0 || packets.keyframes.length === 0 || packets.pts.some((t) => !Number.isFinite(t))) {
    return { plan: undefined, refusals: [{ code: 'TIMESTAMPS', detail: 'packets without timestamps or keyframes' }] };
  }
  const sorted = Float64Array.from(packets.pts).sort();
  // Constant rate: frame i at the first frame's time plus i periods, to a millisecond of container
  // rounding. The first frame's offset from the output grid (Matroska rounds B-frame delays to
  // milliseconds) is the copy's phase: the encoded rungs are moved by it to match.
  const period = 1 / fps;
  const rel0 = (sorted[0] as number) - fileStart;
  const phase = rel0 - Math.round(rel0 * fps) / fps;
  const firstFrame = Math.round((rel0 - phase) * fps);
  let worst = 0;
  for (let i = 0; i < count; i++) {
    const rel = (sorted[i] as number) - fileStart - phase;
    worst = Math.max(worst, Math.abs(rel - (firstFrame + i) * period));
  }
  if (worst > 0.0011 + period * 0.01)
    refusals.push({
      code: 'FRAME_RATE',
      detail: `frames are not ${fps} a second throughout (one is ${(worst * 1000).toFixed(1)} ms off)`,
    });
  const first = packets.keyframes[0] as number;
  if (packets.pts[first] !== sorted[0])
    refusals.push({ code: 'KEYFRAMES', detail: 'the first frame is not a keyframe' });
  const keyTimes = packets.keyframes.map((i) => packets.pts[i] as number);
  let gap = 0;
  for (let k = 1; k < keyTimes.length; k++) gap = Math.max(gap, (keyTimes[k] as number) - (keyTimes[k - 1] as number));
  gap = Math.max(gap, (sorted[count - 1] as number) + period - (keyTimes[keyTimes.length - 1] as number));
  if (gap > MAX_KEYFRAME_GAP_SECONDS)
    refusals.push({
      code: 'KEYFRAMES',
      detail: `keyframes are up to ${gap.toFixed(1)} s apart (at most ${MAX_KEYFRAME_GAP_SECONDS} s)`,
    });
  // Closed GOPs only: a segment starting on a keyframe must not need the frames before it.
  const open = packets.keyframes.some((k) => {
    for (let j = k + 1; j < Math.min(count, k + 8); j++)
      if ((packets.pts[j] as number) < (packets.pts[k] as number)) return true;
    return false;
  });
  if (open) refusals.push({ code: 'OPEN_GOP', detail: 'pictures after a keyframe refer to the GOP before it' });
  if (refusals.length) return { plan: undefined, refusals };

  const frameOf = (t: number) => Math.round((t - fileStart - phase) * fps);
  const want = Math.round(segmentSeconds * fps);
  const boundaries: number[] = [];
  for (const t of keyTimes) {
    const f = frameOf(t);
    const last = boundaries[boundaries.length - 1];
    if (last === undefined || f - last >= want) boundaries.push(f);
  }
  // Peak bit rate of the planned segments from the packet sizes (what the copy stores, before the TS).
  const endFrame = frameOf(sorted[count - 1] as number) + 1;
  const ends = [...boundaries.slice(1), endFrame];
  const bytesPer = new Float64Array(boundaries.length);
  for (let i = 0; i < count; i++) {
    const s = segmentOf(boundaries, frameOf(packets.pts[i] as number));
    bytesPer[s] = (bytesPer[s] as number) + (packets.bytes[i] as number);
  }
  let peak = 0;
  boundaries.forEach((b, s) => {
    const seconds = ((ends[s] as number) - b) / fps;
    if (seconds > 0.5) peak = Math.max(peak, ((bytesPer[s] as number) * 8) / seconds);
  });
  return {
    plan: {
      boundaries,
      endFrame,
      codec: sps.codec,
      colourTags: sps.colour ? 'source' : matrix === 'bt601' ? 'bt601' : 'bt709',
      peakBitrate: Math.round(peak),
      phase: Number(phase.toFixed(6)),
    },
    refusals: [],
  };
}

/**
 * The `h264_metadata` options that write a colour description into a copied stream's SPS (H.273
 * code points, limited range): BT.709 throughout, or BT.601 (SMPTE 170M, which PAL's BT.470BG
 * matches in matrix and transfer); undefined when the stream keeps its own.
 */
export function colourTagFilter(tags: CopyPlan['colourTags'], height: number): string | undefined {
  if (tags === 'source') return undefined;
  const [primaries, transfer, matrix] = tags === 'bt709' ? [1, 1, 1] : [height === 576 ? 5 : 6, 6, 6];
  return `h264_metadata=video_full_range_flag=0:colour_primaries=${primaries}:transfer_characteristics=${transfer}:matrix_coefficients=${matrix}`;
}

/** Why an audio track is encoded (stereo AAC-LC) rather than copied; undefined when it is copied. */
export function audioRefusal(track: AudioTrack): string | undefined {
  if (track.codec !== 'aac') return `${track.codec} is not AAC`;
  if (track.profile !== 'LC') return `AAC profile ${track.profile ?? 'unknown'} is not LC`;
  if (track.channels > 2) return `${track.channels} channels are downmixed to stereo`;
  return undefined;
}

/** Index of the segment holding frame `f`: the last boundary at or before it (binary search). */
function segmentOf(boundaries: readonly number[], f: number): number {
  let lo = 0;
  let hi = boundaries.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((boundaries[mid] as number) <= f) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
