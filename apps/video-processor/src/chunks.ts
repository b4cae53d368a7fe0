import { join } from 'node:path';
import {
  BT709_TAGS,
  FFMPEG_PRELUDE,
  FRAME_FILES,
  ffmpegInput,
  highProfileCodec,
  inputArgs,
  type Matrix,
  tileFilters,
} from '@nself-tv/media-tools';
import { z } from 'zod';
import { colourTagFilter, MAX_KEYFRAME_GAP_SECONDS } from './copy.js';
import { hlsMuxArgs, segmentMuxArgs } from './hls-output.js';
import type { PlannedRendition } from './ladder.js';
import { GRID } from './trickplay.js';

/**
 * A film as chunks of source time, each its own job on `video:transcode`, encoding every rung
 * of its span from one decode into the final segment names. What makes the joined rendition
 * the one a single pass would make:
 * - chunks start on segment boundaries, counted in output frames, and every segment starts
 *   with a keyframe (a fixed GOP of 2 s from frame 0, two GOPs a segment);
 * - every chunk decodes from a few seconds before its start (`-ss` to the keyframe before, so
 *   deinterlacing and the frame-rate filter have settled) and keeps exactly its frames by
 *   number after the constant-rate filter (`trim`), so no frame is lost or doubled at a join;
 * - timestamps are the source's own (`-copyts -start_at_zero`), moved by the same constant in
 *   every chunk (`-output_ts_offset`), so PTS/DTS run on across chunks and the first chunk's
 *   B-frames never give a negative DTS that the muxer would shift;
 * - segment numbers continue from the chunk before (`-start_number`), and each chunk's first TS
 *   packets carry the discontinuity indicator, since their continuity counters start again at 0.
 * Audio is not chunked: each track is encoded over the whole film by its own part (AAC's
 * priming would make chunk joins audible), with the same timestamps (`audio.ts`).
 */

/**
 * The most a rung's video may take (VBV maxrate), kbps. At a fixed rate, its bitrate and a tenth
 * (the average is the bitrate). Under capped CRF a twentieth under the bitrate: a picture that
 * needs more than the cap (heavy grain) runs at the cap throughout and overshoots it by what the
 * buffer lets through, and the quality bench found it then took more bytes than the fixed rate
 * (11 % with a cap of 1.1x, 2 % at 1x) for a picture no better.
 */
export const capKbps = (videoKbps: number, crf = false) => Math.round(videoKbps * (crf ? 0.95 : 1.1));

/** The capped-CRF target by default (`TRANSCODE_CRF`): every rung within 0.002 SSIM of its fixed rate in the quality bench. */
export const DEFAULT_CRF = 21;

/**
 * The CRF of a rung under a capped-CRF setting of `base`: the small rungs a little lower (finer),
 * since a player shows them enlarged and every artefact grows with them; 1080p and up at `base`.
 * Measured with the quality bench: at one CRF for all, 480p and 720p lost over 0.002 SSIM.
 */
export function rungCrf(base: number, height: number): number {
  const finer = height <= 360 ? 4 : height <= 480 ? 3 : height <= 720 ? 2 : 0;
  return Math.max(1, base - finer);
}

/** Seconds of one HLS segment (two 2-second GOPs). */
export const SEGMENT_SECONDS = 4;
/** Source seconds one chunk encodes, by default. */
export const DEFAULT_CHUNK_SECONDS = 60;
/** Seconds decoded before a chunk's first frame and thrown away, so stateful filters have settled. */
const PREROLL_SECONDS = 3;
/** Added to every output timestamp (see above). */
export const TS_OFFSET_SECONDS = 1;

/** Frames of one GOP and one segment at `fps`. */
export function gopFrames(fps: number): { gop: number; segment: number } {
  const gop = Math.max(1, Math.round(fps * 2));
  return { gop, segment: gop * 2 };
}

/** One chunk: output frames `[startFrame, endFrame)`; `endFrame` null for the last (to the end). */
/** One chunk's span of the film, in output frames. */
export const chunkSpan = z.object({
  index: z.number().int().nonnegative(),
  startFrame: z.number().int().nonnegative(),
  endFrame: z.number().int().positive().nullable(),
  /** Number of the chunk's first segment. */
  firstSegment: z.number().int().nonnegative(),
  /** Frames the chunk makes (for the last, as the probed duration says). */
  frames: z.number().int().positive(),
});
export type ChunkSpan = z.infer<typeof chunkSpan>;

/**
 * Segments of the first chunk. The film is playable once its first chunk is stored, so that one is
 * short (8 s, whatever the setting); each later chunk is twice the one before, up to the setting,
 * so a film still has few chunks.
 */
const FIRST_CHUNK_SEGMENTS = 2;

/**
 * Cuts `durationSeconds` at `fps` into chunks on segment boundaries: the first of
 * {@link FIRST_CHUNK_SEGMENTS}, doubling up to about `chunkSeconds`. `chunkSeconds` 0 makes one
 * chunk of the whole film (one pass, as before there were chunks). Segments start every
 * {@link SEGMENT_SECONDS} unless `boundaries` gives where they start (output frame numbers, the
 * source's keyframes when its video is copied).
 */
export function planChunks(
  durationSeconds: number,
  fps: number,
  chunkSeconds: number,
  boundaries?: readonly number[],
): ChunkSpan[] {
  const { segment } = gopFrames(fps);
  const totalFrames = Math.max(1, Math.round(durationSeconds * fps));
  const totalSegments = boundaries?.length ?? Math.ceil(totalFrames / segment);
  const startOf = (s: number) => (s === 0 ? 0 : (boundaries?.[s] ?? s * segment));
  if (chunkSeconds <= 0) return [{ index: 0, startFrame: 0, endFrame: null, firstSegment: 0, frames: totalFrames }];
  const perSegment = boundaries ? Math.max(1, totalFrames / totalSegments) : segment;
  const perChunk = Math.max(1, Math.round((chunkSeconds * fps) / perSegment));
  const chunks: ChunkSpan[] = [];
  let size = Math.min(perChunk, FIRST_CHUNK_SEGMENTS);
  for (let first = 0; first < totalSegments; first += size, size = Math.min(perChunk, size * 2)) {
    // A last chunk shorter than half a chunk joins the one before.
    const next = first + size;
    const last = next >= totalSegments || totalSegments - next < Math.min(perChunk, size * 2) / 2;
    const startFrame = startOf(first);
    const endFrame = last ? null : startOf(next);
    const frames = (endFrame ?? Math.max(totalFrames, startFrame + 1)) - startFrame;
    chunks.push({ index: chunks.length, startFrame, endFrame, firstSegment: first, frames });
    if (last) break;
  }
  return chunks;
}

/** Thumbnails a chunk takes from its decode: thumbnail `k` is output frame `ceil(k * interval * fps)`. */
/** A kind of thumbnail a chunk makes. */
const chunkThumbnails = z.object({
  interval: z.number().positive(),
  /** Thumbnails of the whole film; a chunk makes those whose frame falls in its span. */
  count: z.number().int().positive(),
});
export type ChunkThumbnails = z.infer<typeof chunkThumbnails>;

/** The thumbnails whose frames fall in `[startFrame, endFrame)`: the first one's number and how many. */
export function thumbnailsIn(t: ChunkThumbnails, fps: number, span: ChunkSpan): { first: number; count: number } {
  const per = t.interval * fps;
  const first = span.startFrame === 0 ? 0 : Math.floor((span.startFrame - 1) / per) + 1;
  const end = span.endFrame === null ? t.count : Math.min(t.count, Math.floor((span.endFrame - 1) / per) + 1);
  return { first: Math.min(first, t.count), count: Math.max(0, end - first) };
}

/** Everything a chunk needs to know, kept as the part's data. */
export const chunkWork = z
  .object({
    kind: z.literal('chunk'),
    span: chunkSpan,
    videoIndex: z.number().int().nonnegative(),
    fps: z.number().positive(),
    picture: z.array(z.string().max(2000)).max(16),
    /** Scaler of each rung, by rung name (`scaleTo`). */
    rungs: z
      .array(
        z.object({
          name: z.string().regex(/^\d+p$/),
          scale: z.string().max(2000),
          videoKbps: z.number().int().positive(),
          level: z.string().regex(/^\d\.\d$/),
        }),
      )
      .min(1)
      .max(8),
    /**
     * Constant quality target of every rung (x264 CRF), the rung's bitrate its cap; absent: the
     * rung's bitrate as the target (chunks queued before capped CRF).
     */
    crf: z.number().int().min(1).max(51).optional(),
    /**
     * The source's video copied into the rung named, segments cut at its keyframes: the chunk's
     * segments start at `segments` (output frame numbers, the first the chunk's own start), and every
     * encoded rung has keyframes there and nowhere else. Absent: every rung encoded, two GOPs a segment.
     */
    copy: z
      .object({
        rung: z.string().regex(/^\d+p$/),
        segments: z.array(z.number().int().nonnegative()).min(1).max(100_000),
        /** The frame after the chunk's last: the next chunk's start, or the film's end. */
        end: z.number().int().positive(),
        /** Seconds the source's frames are after the output grid: every encoded rung is moved by it. */
        phase: z.number().min(-1).max(1),
        /** The colour description written into the copied stream's VUI; absent: it keeps its own. */
        colourTags: z.enum(['bt709', 'bt601']).optional(),
      })
      .strict()
      .optional(),
    display: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }),
    matrix: z.enum(['bt709', 'bt601', 'bt2020']),
    trickplay: chunkThumbnails.optional(),
    frames: chunkThumbnails.optional(),
  })
  .strict();
export type ChunkWork = z.infer<typeof chunkWork>;

/** The select expression keeping thumbnail frames: frame `m` where `floor(m/P)` steps (`P` frames apart). */
function thumbnailSelect(t: ChunkThumbnails, fps: number, startFrame: number): string {
  const per = (t.interval * fps).toFixed(6);
  return `select='not(eq(floor((n+${startFrame})/${per})\\,floor((n+${startFrame}-1)/${per})))'`;
}

/** Seconds of frame `f` before the output offset: frame numbers are PTS at the constant rate. */
const at = (f: number, fps: number) => (f / fps).toFixed(6);

/**
 * The ffmpeg command of one chunk: every rung of its span into `out/<rung>/seg_NNN.ts` (the copied
 * rung's segment list in `out/<rung>/index.m3u8` too), thumbnails into `thumbs`.
 */
export function chunkArgs(input: string, out: string, thumbs: string, work: ChunkWork): string[] {
  const { span, fps, copy } = work;
  const { gop } = gopFrames(fps);
  const startSeconds = span.startFrame / fps;
  const seek = Math.max(0, startSeconds - PREROLL_SECONDS);
  const encoded = work.rungs.filter((r) => r.name !== copy?.rung);
  // By frame number: after the fps filter a frame's PTS is its number (time base 1/fps).
  const trim = [
    ...(span.startFrame > 0 ? [`start_pts=${span.startFrame}`] : []),
    ...(span.endFrame === null ? [] : [`end_pts=${span.endFrame}`]),
  ];
  const extras = [...(work.trickplay ? ['[tp]'] : []), ...(work.frames ? ['[fr]'] : [])];
  const decoded = encoded.length + extras.length;
  const chain = [...work.picture, ...(trim.length ? [`trim=${trim.join(':')}`] : []), `split=${decoded}`];
  const graph = [
    `[0:${work.videoIndex}]${chain.join(',')}${encoded.map((_, i) => `[s${i}]`).join('')}${extras.join('')}`,
    ...encoded.map((r, i) => `[s${i}]${r.scale}[o${i}]`),
  ];
  const tiles = tileFilters(work.display, GRID, work.matrix as Matrix).join(',');
  if (work.trickplay) graph.push(`[tp]${thumbnailSelect(work.trickplay, fps, span.startFrame)},${tiles}[tpo]`);
  if (work.frames) graph.push(`[fr]${thumbnailSelect(work.frames, fps, span.startFrame)},${tiles}[fro]`);

  const args =
    decoded > 0
      ? ffmpegInput(input, [
          ...['-copyts', '-start_at_zero', '-noautorotate'],
          ...(seek > 0 ? ['-ss', seek.toFixed(3), '-noaccurate_seek'] : []),
        ])
      : [...FFMPEG_PRELUDE, '-copyts', '-start_at_zero'];
  if (copy) args.push(...copyInput(input, work, copy));
  if (decoded > 0) args.push('-filter_complex', graph.join(';'));
  if (encoded.length > 0) {
    encoded.forEach((r, i) => {
      args.push('-map', `[o${i}]`);
      // Capped CRF: the quality target sets the bits, the VBV keeps every rung under its bitrate.
      // Easy pictures take fewer bytes; hard ones the cap.
      if (work.crf === undefined) args.push(`-b:v:${i}`, `${r.videoKbps}k`);
      else args.push(`-crf:v:${i}`, String(rungCrf(work.crf, Number(r.name.slice(0, -1)))));
      const cap = capKbps(r.videoKbps, work.crf !== undefined);
      args.push(`-maxrate:v:${i}`, `${cap}k`, `-bufsize:v:${i}`, `${r.videoKbps * 2}k`);
      args.push(`-level:v:${i}`, r.level);
    });
    args.push('-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p', ...BT709_TAGS);
    if (copy) {
      // Keyframes where the copied rung's segments start and nowhere else, so the muxer (told to
      // cut at every keyframe) cuts every rung at the same frames.
      const longest = Math.ceil((SEGMENT_SECONDS + MAX_KEYFRAME_GAP_SECONDS) * fps) + 1;
      args.push('-force_key_frames', copy.segments.map((f) => at(f, fps)).join(','));
      args.push('-g', String(longest), '-sc_threshold', '0');
    } else args.push('-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0');
    args.push('-output_ts_offset', (TS_OFFSET_SECONDS + (copy?.phase ?? 0)).toFixed(6));
    // Copied: a keyframe starts every segment, so the muxer cuts at each one. Encoded: a millisecond
    // under two GOPs, so it cuts at every second keyframe, never at the one between.
    const segmentSeconds = copy ? '0.1' : ((gop * 2) / fps - 0.001).toFixed(6);
    // Each chunk's muxer counts TS packets (continuity counters) from 0: its first packets say so
    // (discontinuity_indicator), so a demuxer reading the joined segments in a row takes the jump.
    args.push(
      ...hlsMuxArgs(out, {
        segmentSeconds,
        streams: encoded.map((r, i) => `v:${i},name:${r.name}`),
        startNumber: span.firstSegment,
        discontinuityFlag: true,
      }),
    );
  }
  if (copy) args.push(...copyOutput(decoded > 0 ? 1 : 0, out, work, copy));
  args.push('-progress', 'pipe:1', '-nostats');
  for (const [label, t, dir, quality] of [
    ['[tpo]', work.trickplay, 'trickplay', '2'],
    ['[fro]', work.frames, 'frames', '3'],
  ] as const) {
    if (!t) continue;
    const { first, count } = thumbnailsIn(t, fps, span);
    if (count === 0) {
      args.push('-map', label, '-f', 'null', '-');
      continue;
    }
    args.push('-map', label, '-frames:v', String(count), '-q:v', quality, '-start_number', String(first));
    args.push('-f', 'image2', join(thumbs, dir, FRAME_FILES));
  }
  return args;
}

/**
 * The copied rung of a chunk, as an input and an output: the source's own packets from the chunk's
 * first keyframe, cut into segments at its keyframes by the segment muxer. It reads a little past
 * the chunk's end so the last segment is closed by the next keyframe; segments past the end are
 * the next chunk's and are left out of this one's result.
 */
function copyInput(input: string, work: ChunkWork, copy: NonNullable<ChunkWork['copy']>): string[] {
  const { span, fps } = work;
  const from = (copy.segments[0] as number) / fps + copy.phase;
  const args: string[] = [];
  // ffmpeg seeks to a keyframe at or before; the packets before `from` are dropped (copypriorss 0).
  if (span.startFrame > 0) args.push('-ss', (from - 0.5 / fps).toFixed(6));
  if (span.endFrame !== null) args.push('-t', (span.endFrame / fps + copy.phase - from + 2).toFixed(6));
  return [...args, ...inputArgs(input)];
}

function copyOutput(inputIndex: number, out: string, work: ChunkWork, copy: NonNullable<ChunkWork['copy']>): string[] {
  const { span, fps } = work;
  // The segment muxer sees timestamps after the output offset.
  const cuts = [...copy.segments.slice(1), ...(span.endFrame === null ? [] : [span.endFrame])];
  const times = cuts.map((f) => (f / fps + copy.phase + TS_OFFSET_SECONDS).toFixed(6));
  const args = ['-map', `${inputIndex}:${work.videoIndex}`, '-c:v', 'copy', '-copypriorss', '0'];
  const tags = copy.colourTags && colourTagFilter(copy.colourTags, work.display.height);
  if (tags) args.push('-bsf:v', tags);
  args.push('-output_ts_offset', String(TS_OFFSET_SECONDS));
  args.push(
    ...segmentMuxArgs(join(out, copy.rung), {
      cutTimes: times,
      cutDelta: (0.5 / fps).toFixed(6),
      startNumber: span.firstSegment,
    }),
  );
  return args;
}

/** A rung's H.264 level and `avc1` CODECS string (High profile). */
export function level(r: Pick<PlannedRendition, 'width' | 'height'>): { level: string; codec: string } {
  const pixels = r.width * r.height;
  const level = pixels > 1920 * 1088 ? '5.2' : pixels > 1280 * 720 ? '4.2' : '3.2';
  return { level, codec: highProfileCodec(level) };
}
