/**
 * Stable codes of media failures. Each says what went wrong with the input or
 * the machine; whether a job is retried is the job framework's decision, from
 * {@link MEDIA_ERROR_FINALITY} composed with the other packages' tables.
 * - `TOOL_MISSING`: ffmpeg, ffprobe or tesseract is not installed where configured.
 * - `TOOL_FAILED`: a tool run failed or was killed (`ToolError`, with its stderr's tail).
 * - `REFUSED_INPUT`: a playlist, concat list or other format that is never read.
 * - `NOT_MEDIA`: the file cannot be read as media (or, for an image job, as an image).
 * - `FRAME_TOO_LARGE`: the declared frame is larger than the configured limit.
 * - `INPUT_TOO_LARGE`: the file, or the image it declares, is larger than the configured limit.
 * - `NO_VIDEO`: the source has no video stream, or none with a duration.
 * - `NOT_DECODABLE`: the source's stream gave no frame at all.
 */
export type MediaErrorCode =
  | 'TOOL_MISSING'
  | 'TOOL_FAILED'
  | 'REFUSED_INPUT'
  | 'NOT_MEDIA'
  | 'FRAME_TOO_LARGE'
  | 'INPUT_TOO_LARGE'
  | 'NO_VIDEO'
  | 'NOT_DECODABLE';

/**
 * Whether each code is the same on every attempt (`final`) or may pass (`retry`): what the input
 * is never changes; a tool run that failed may (memory, a signal). Typed over every code, so a new
 * code does not compile until placed. A job framework composes this table with the other
 * packages' (the worker apps' `RETRY_POLICY`).
 */
export const MEDIA_ERROR_FINALITY: Readonly<Record<MediaErrorCode, 'final' | 'retry'>> = {
  TOOL_MISSING: 'final',
  TOOL_FAILED: 'retry',
  REFUSED_INPUT: 'final',
  NOT_MEDIA: 'final',
  FRAME_TOO_LARGE: 'final',
  INPUT_TOO_LARGE: 'final',
  NO_VIDEO: 'final',
  NOT_DECODABLE: 'final',
};

/** A media failure with a stable {@link MediaErrorCode}. */
export class MediaError extends Error {
  readonly code: MediaErrorCode;

  constructor(code: MediaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MediaError';
    this.code = code;
  }
}
