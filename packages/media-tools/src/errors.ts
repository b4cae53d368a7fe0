/**
 * Stable codes of media failures. Each says what went wrong with the input or
 * the machine; whether a job is retried is the job framework's decision (the
 * queues package maps these codes to final or retryable in one place).
 * - `TOOL_MISSING`: ffmpeg or ffprobe is not installed where configured.
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

/** A media failure with a stable {@link MediaErrorCode}. */
export class MediaError extends Error {
  readonly code: MediaErrorCode;

  constructor(code: MediaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MediaError';
    this.code = code;
  }
}
