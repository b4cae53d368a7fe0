/**
 * Demuxers a media library needs, by ffmpeg's names: MP4/MOV/M4V/3GP (`mov`),
 * MKV/WebM (`matroska`), AVI, MPEG-TS/M2TS (`mpegts`), DVD VOB/MPEG-PS
 * (`mpeg`), FLV, WMV/ASF, Ogg, DV, WTV (Windows Media Center recordings) and
 * audio-only files. Everything that opens other files or URLs (HLS, DASH,
 * concat, image sequences, `tee`, SDP, …) is left out, so an upload is read
 * as the one file it is.
 */
export const VIDEO_DEMUXERS = [
  'mov',
  'matroska',
  'avi',
  'mpegts',
  'mpeg',
  'flv',
  'asf',
  'ogg',
  'dv',
  'wtv',
  'wav',
  'mp3',
  'flac',
  'aac',
] as const;

/** Demuxers of subtitle sidecar files: SubRip, ASS/SSA and WebVTT. */
export const SUBTITLE_DEMUXERS = ['srt', 'ass', 'webvtt'] as const;

/**
 * ffmpeg/ffprobe input options that read `path` as exactly that local file:
 * only the `file` protocol, only the demuxers of `kind`. A playlist, concat
 * list or any other indirection uploaded under a media name fails to open
 * ("Format … not on whitelist") instead of reading what it names.
 */
export function inputArgs(path: string, kind: 'video' | 'subtitle' = 'video'): string[] {
  const demuxers = kind === 'video' ? VIDEO_DEMUXERS : SUBTITLE_DEMUXERS;
  // `file:` so a name containing ':' is never taken for a protocol.
  return ['-protocol_whitelist', 'file', '-format_whitelist', demuxers.join(','), '-i', `file:${path}`];
}

/** What every ffmpeg run starts with: no banner, no reading of stdin, outputs overwritten. */
export const FFMPEG_PRELUDE: readonly string[] = ['-hide_banner', '-nostdin', '-y'];

/**
 * An ffmpeg command up to its input: the prelude, `options` that apply to the
 * input (`-noautorotate`, a seek, `-copyts`, a canvas size), then the input
 * read as the one file it is ({@link inputArgs}).
 */
export const ffmpegInput = (
  path: string,
  options: readonly string[] = [],
  kind: 'video' | 'subtitle' = 'video',
): string[] => [...FFMPEG_PRELUDE, ...options, ...inputArgs(path, kind)];
