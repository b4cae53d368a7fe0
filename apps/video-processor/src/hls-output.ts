import { join } from 'node:path';

/**
 * ffmpeg's output arguments for the HLS this app writes, in one room: every rendition a folder of
 * `index.m3u8` and MPEG-TS segments named {@link SEGMENT_FILES}, VOD, each segment decodable on its
 * own. The chunks' encoded rungs and the audio part use the HLS muxer; a copied rung uses the
 * segment muxer, cut at the source's keyframes. (An fMP4/CMAF output changes these two functions.)
 */

/** Segment file names inside a rendition folder (`seg_000.ts`). */
export const SEGMENT_FILES = 'seg_%03d.ts';
/** The media playlist of a rendition folder. */
export const MEDIA_PLAYLIST = 'index.m3u8';

/** What the HLS muxer needs besides the folder. */
export interface HlsMuxOptions {
  /** `-hls_time`: seconds, as ffmpeg reads them (a string, so its rounding is the caller's). */
  segmentSeconds: string;
  /** `-var_stream_map` entries (`v:0,name:720p`): each names its folder under `out`. */
  streams: readonly string[];
  /** The number of the first segment (a chunk continues the film's numbering). @default 0 */
  startNumber?: number;
  /** Each chunk's muxer counts TS packets from 0: its first packets say so, for a demuxer reading chunks in a row. */
  discontinuityFlag?: boolean;
}

/** The HLS muxer writing one VOD media playlist per stream into `out/<name>/`. */
export function hlsMuxArgs(out: string, o: HlsMuxOptions): string[] {
  const args = ['-f', 'hls', '-hls_time', o.segmentSeconds, '-hls_playlist_type', 'vod'];
  if (o.startNumber !== undefined) args.push('-start_number', String(o.startNumber));
  args.push('-hls_flags', 'independent_segments', '-hls_segment_filename', join(out, '%v', SEGMENT_FILES));
  if (o.discontinuityFlag) args.push('-hls_segment_options', 'mpegts_flags=+initial_discontinuity');
  args.push('-var_stream_map', o.streams.join(' '), join(out, '%v', MEDIA_PLAYLIST));
  return args;
}

/** What the segment muxer of a copied rung needs. */
export interface SegmentMuxOptions {
  /** Where to cut (seconds, after the output offset); none: one segment. */
  cutTimes: readonly string[];
  /** How far from a cut a keyframe may be and still start the segment. */
  cutDelta: string;
  startNumber: number;
}

/** The segment muxer writing a copied rung's MPEG-TS segments and playlist into `folder`. */
export function segmentMuxArgs(folder: string, o: SegmentMuxOptions): string[] {
  const args = ['-f', 'segment', '-segment_format', 'mpegts'];
  if (o.cutTimes.length) args.push('-segment_times', o.cutTimes.join(','), '-segment_time_delta', o.cutDelta);
  else args.push('-segment_time', '1000000');
  args.push('-segment_start_number', String(o.startNumber));
  args.push('-segment_format_options', 'mpegts_flags=+initial_discontinuity');
  args.push('-segment_list', join(folder, MEDIA_PLAYLIST), '-segment_list_type', 'm3u8');
  args.push(join(folder, SEGMENT_FILES));
  return args;
}
