/**
 * Stable codes of media failures. Each says what went wrong with the input or
 * the machine; whether a job is retried is the job framework's decision (the
 * queues package maps these codes to final or retryable in one place).
 * - `TOOL_MISSING`: ffmpeg or ffprobe is not installed where configured.
 * - `REFUSED_INPUT`: a playlist, concat list or other format that is never read.
 * - `NOT_MEDIA`: ffprobe cannot read the file as media.
 * - `FRAME_TOO_LARGE`: the declared frame is larger than the configured limit.
 */
export type MediaErrorCode = 'TOOL_MISSING' | 'REFUSED_INPUT' | 'NOT_MEDIA' | 'FRAME_TOO_LARGE';

/** A media failure with a stable {@link MediaErrorCode}. */
export class MediaError extends Error {
  readonly code: MediaErrorCode;

  constructor(code: MediaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MediaError';
    this.code = code;
  }
}
