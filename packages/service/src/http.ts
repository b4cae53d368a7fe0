import type { FastifyError, FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';

/** Options of {@link httpErrors}. */
export interface HttpErrorsOptions {
  /**
   * The app's translation of its packages' coded errors (a queue's `REDIS_UNAVAILABLE`, a
   * session's `INVALID_SESSION_INPUT`) into {@link HttpError}s; `undefined` for an error it does
   * not know, which then answers 500. @default none
   */
  fromDomain?: (error: Error) => HttpError | undefined;
}

/**
 * The codes the packages give an outage of what they stand on (Redis down or full, a write the
 * replicas did not confirm, a media store that does not answer): every app answers them 503
 * `service_unavailable`, here, whichever package threw them.
 */
export const OUTAGE_MESSAGES: Readonly<Record<string, string>> = {
  REDIS_UNAVAILABLE: 'Redis does not answer; retry shortly',
  REDIS_FULL: 'Redis is full: nothing was written; retry later',
  NOT_REPLICATED: 'the write could not be confirmed on the replicas; retry shortly',
  STORE_UNAVAILABLE: 'the media store does not answer; retry shortly',
};

/** A package's outage, by its code: 503 with the code's message. */
function fromOutage(error: Error): HttpError | undefined {
  const code = (error as { code?: unknown }).code;
  const message = typeof code === 'string' && Object.hasOwn(OUTAGE_MESSAGES, code) ? OUTAGE_MESSAGES[code] : undefined;
  return message === undefined ? undefined : new HttpError('service_unavailable', message);
}

/** Fastify's own errors, in the registry's codes (they keep their status: 413, 415, 400). */
function fromFastify(error: FastifyError, bodyLimit: number): HttpError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError('payload_too_large', `the body is larger than ${bodyLimit} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError('unsupported_media_type', 'the body must be application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpError('bad_request', 'the Content-Length does not match the body');
  }
  return error.statusCode === 400 ? new HttpError('bad_request', 'the body is not valid JSON') : undefined;
}

const PROTOTYPE_KEYS = 'the body must not contain __proto__ or constructor.prototype keys';

/**
 * Marks a plugin as applying to the instance it is registered on (what `fastify-plugin` does):
 * its hooks, error handler and decorations are the registering app's, not a child context's.
 */
export function shared<T>(plugin: T): T {
  (plugin as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
  return plugin;
}

/**
 * The one error policy of every app: every failure answers
 * `{ error, message, field?, … }` with a code of `HTTP_ERRORS` and its status;
 * an unknown route is 404 `not_found`; anything unexpected is 500
 * `internal_error`, logged with the request id and never shown. Register it
 * before the routes.
 */
export const httpErrors: FastifyPluginCallback<HttpErrorsOptions> = shared((app, options, done) => {
  const bodyLimit = app.initialConfig.bodyLimit ?? 1_048_576;
  app.setErrorHandler((error: Error, request: FastifyRequest, reply: FastifyReply) => {
    const problem =
      error instanceof HttpError
        ? error
        : (options.fromDomain?.(error) ?? fromOutage(error) ?? fromFastify(error as FastifyError, bodyLimit));
    if (problem) {
      // A dependency that does not answer is worth a line; a caller's mistake is not.
      if (problem.status >= 500) request.log.warn({ err: error }, problem.message);
      return reply.code(problem.status).send(problem.body());
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send(new HttpError('internal_error').body());
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(new HttpError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`).body()),
  );
  done();
});

/**
 * Request bodies are JSON or nothing: another content type is 415
 * `unsupported_media_type` (Fastify's text/plain parser would otherwise hand
 * a string to the route), and an empty body with a JSON content type is no
 * body (what fetch wrappers send on a heartbeat or a DELETE). Non-empty
 * bodies keep Fastify's parser, which refuses `__proto__`.
 */
export const jsonBodies: FastifyPluginCallback = shared((app: FastifyInstance, _options, done) => {
  app.removeContentTypeParser('text/plain');
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, next) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return next(null, undefined);
    return json(request, text, (error, value) => {
      if (!error) return next(null, value);
      // Valid JSON that Fastify's parser refused has a __proto__ or constructor.prototype key.
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
      }
      next(valid ? new HttpError('bad_request', PROTOTYPE_KEYS) : error);
    });
  });
  done();
});

/**
 * Fastify's `frameworkErrors` option, so the errors it answers before any
 * route or hook runs (a URL with a malformed `%` escape) have the same body:
 * `Fastify({ frameworkErrors })`.
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const problem =
    error.code === 'FST_ERR_BAD_URL'
      ? new HttpError('bad_request', 'the URL is malformed')
      : new HttpError(error.statusCode && error.statusCode < 500 ? 'bad_request' : 'internal_error');
  reply.code(problem.status).send(problem.body());
}
