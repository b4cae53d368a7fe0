/** Error codes of the API, as the nself-tv web client expects them. */
export type ApiErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'policy_denied'
  | 'session_not_found'
  | 'concurrency_limit'
  | 'device_limit'
  | 'rate_limited'
  | 'not_found'
  | 'service_unavailable'
  | 'internal_error';

/** An error that becomes `{ error, message, ...extra }` with its status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
