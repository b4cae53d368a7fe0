export { AUDIO_CODECS, avc1Codec, highProfileCodec } from './codecs.js';
export type { MediaErrorCode } from './errors.js';
export { MEDIA_ERROR_FINALITY, MediaError } from './errors.js';
export type { RunLogOptions, RunOptions, ToolSettings } from './ffmpeg.js';
export {
  configureTools,
  DEFAULT_MAX_MEMORY_MB,
  MAX_STDERR_LINE,
  progressOf,
  run,
  runLog,
  ToolError,
  tools,
} from './ffmpeg.js';
export { FFMPEG_PRELUDE, ffmpegInput, inputArgs, SUBTITLE_DEMUXERS, VIDEO_DEMUXERS } from './input.js';
export { interlacing } from './interlace.js';
export type { Confinement } from './launcher.js';
export { confinement } from './launcher.js';
export type { VideoPackets } from './packets.js';
export { MAX_PACKETS, videoPackets } from './packets.js';
export type {
  Colour,
  FieldOrder,
  HdrTransfer,
  Matrix,
  Orientation,
  PictureOptions,
  VideoLike,
} from './picture.js';
export {
  BT709_TAGS,
  even,
  fpsExpression,
  letterbox,
  matrixOf,
  orientationOf,
  outputFps,
  pictureFilters,
  scaleTo,
} from './picture.js';
export type { AudioTrack, MediaInfo, SubtitleTrack, VideoInfo } from './probe.js';
export { checkFrameSize, DEFAULT_MAX_VIDEO_PIXELS, PROBE_TIMEOUT_MS, probe } from './probe.js';
export type { MediaLimits, MediaToolValues } from './settings.js';
export { mediaToolSettings } from './settings.js';
export type { H264Sps } from './sps.js';
export { h264Sps, parseSpsTrace } from './sps.js';
export type { Grid, SheetSpan } from './thumbnails.js';
export {
  FRAME_FILES,
  frameName,
  SHEET_FILES,
  sheetFilter,
  sheetLayout,
  sheetName,
  sheetOutput,
  thumbnailFilters,
  thumbnailIntervalFor,
  thumbnailVtt,
  tileFilters,
  tileFramesInput,
  tilePosition,
  vttTime,
} from './thumbnails.js';
