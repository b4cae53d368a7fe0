/** Stable codes of this package's errors. */
export type SessionErrorCode = 'INVALID_SESSION_CONFIG' | 'INVALID_SESSION_INPUT';

/**
 * Thrown for bad configuration or input (an id that breaks the key rule is
 * `INVALID_SESSION_INPUT` with the field named). Limit rejections, unknown
 * sessions and ownership failures are results, not errors.
 */
export class SessionError extends Error {
  readonly code: SessionErrorCode;
  readonly field: string | undefined;

  constructor(code: SessionErrorCode, message: string, options?: { cause?: unknown; field?: string }) {
    super(message, options);
    this.name = 'SessionError';
    this.code = code;
    this.field = options?.field;
  }
}
