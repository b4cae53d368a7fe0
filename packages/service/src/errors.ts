/**
 * Every error an nself-tv app answers over HTTP, in one table: its code (the
 * body's `error`), its status and the message used when the thrower gives
 * none. Apps throw {@link HttpError} with a code from here; the OpenAPI
 * documents list these codes, and a test fails when they disagree.
 */
export const HTTP_ERRORS = {
  bad_request: { status: 400, message: 'the request is malformed' },
  unauthorized: { status: 401, message: 'credentials are missing or invalid' },
  policy_denied: { status: 403, message: 'this is not allowed' },
  not_found: { status: 404, message: 'no such resource' },
  /** The gateway's: a session that does not exist, has ended or is someone else's. */
  session_not_found: { status: 404, message: 'no such session; admit again' },
  conflict: { status: 409, message: 'the request conflicts with an earlier one' },
  payload_too_large: { status: 413, message: 'the body is larger than this route accepts' },
  unsupported_media_type: { status: 415, message: 'the body must be application/json' },
  rate_limited: { status: 429, message: 'too many requests; retry later' },
  /** The gateway's: the family watches as many streams as it may. */
  concurrency_limit: { status: 429, message: 'your family already watches as many streams as it may' },
  /** The gateway's: the device plays as many streams as it may. */
  device_limit: { status: 429, message: 'this device already plays as many streams as it may' },
  internal_error: { status: 500, message: 'something went wrong; the request id identifies it in the logs' },
  /** The media store answered and refused this service: its credentials or permissions need an operator. */
  store_refused: { status: 502, message: 'the media store refused this service; its credentials need fixing' },
  service_unavailable: { status: 503, message: 'a service this needs does not answer; retry shortly' },
} as const satisfies Record<string, { status: number; message: string }>;

/** A code of {@link HTTP_ERRORS}. */
export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** Every code, in the registry's order. */
export const HTTP_ERROR_CODES = Object.keys(HTTP_ERRORS) as HttpErrorCode[];

/** The status of `code`. */
export const statusOf = (code: HttpErrorCode): number => HTTP_ERRORS[code].status;

/**
 * An error that answers `{ error, message, field?, ...extra }` with its
 * code's status.
 * @example throw new HttpError('not_found', `no job ${id}`)
 */
export class HttpError extends Error {
  readonly status: number;

  constructor(
    readonly code: HttpErrorCode,
    message: string = HTTP_ERRORS[code].message,
    /** Extra body fields: `field` (the request field at fault), or an app's own such as `activeSessions`. */
    readonly extra: { field?: string; [name: string]: unknown } = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = HTTP_ERRORS[code].status;
  }

  /** The response body. */
  body(): Record<string, unknown> {
    return { error: this.code, message: this.message, ...this.extra };
  }
}

/**
 * JSON Schema of the error body for an OpenAPI document: `codes` are the
 * `error` values the app answers (all of the registry by default), `extra`
 * any fields of its own.
 */
export function errorBodySchema(
  codes: readonly HttpErrorCode[] = HTTP_ERROR_CODES,
  extra: Record<string, unknown> = {},
) {
  return {
    type: 'object',
    required: ['error', 'message'],
    properties: {
      error: { type: 'string', enum: [...codes] },
      message: { type: 'string' },
      field: { type: 'string', description: 'The request field at fault (400 only).' },
      ...extra,
    },
  };
}

/** An OpenAPI document, as far as its error answers go. */
interface OpenApiErrors {
  paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
  components: { schemas: { Error: { properties: { error: { enum: readonly string[] } } } } };
}

/**
 * Where an OpenAPI document and the registry disagree: an `error` code that
 * is not in {@link HTTP_ERRORS}, a documented error status no listed code
 * has, or a listed code whose status no route documents (answers with the
 * `Error` body only). Empty when they agree.
 */
export function errorDocsProblems(openApi: object): string[] {
  const document = openApi as OpenApiErrors;
  const listed = document.components.schemas.Error.properties.error.enum;
  const problems = listed
    .filter((code) => !(code in HTTP_ERRORS))
    .map((code) => `error code ${code} is not in HTTP_ERRORS`);
  const known = listed.filter((code): code is HttpErrorCode => code in HTTP_ERRORS);
  const documented = new Set<number>();
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      for (const [key, response] of Object.entries(operation.responses ?? {})) {
        const status = Number(key);
        // Only answers with the error body count (a 416 of a range request has none).
        if (status < 400 || !JSON.stringify(response).includes('#/components/schemas/Error')) continue;
        documented.add(status);
        if (!known.some((code) => statusOf(code) === status)) {
          problems.push(`${method.toUpperCase()} ${path} documents ${status}, which no listed error code has`);
        }
      }
    }
  }
  for (const code of known) {
    if (!documented.has(statusOf(code))) problems.push(`error code ${code} (${statusOf(code)}) is on no route`);
  }
  return problems;
}

/** The README table of the registry: code, status, default message. */
export function errorTable(codes: readonly HttpErrorCode[] = HTTP_ERROR_CODES): string {
  const rows = codes.map((code) => `| \`${code}\` | ${HTTP_ERRORS[code].status} | ${HTTP_ERRORS[code].message} |`);
  return ['| `error` | Status | Message when the thrower gives none |', '| --- | --- | --- |', ...rows].join('\n');
}
