import { timingSafeEqual } from 'node:crypto';
import type { TvMetrics } from '@nself-tv/metrics';
import { type JobInspector, PayloadError, type Producer, QueueError, type QueueName } from '@nself-tv/queues';
import { isSafeId } from '@nself-tv/redis-keys';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { workerOpenApi } from './openapi.js';
import { registerProbes } from './service.js';

/** Options of {@link registerWorkerRoutes}. */
export interface WorkerHttpOptions {
  /** The queues this app consumes, by the short name used in the URL (`transcode` → `video:transcode`). */
  queues: Record<string, QueueName>;
  /** Request-path connection for `/ready`. */
  connection: Redis;
  producer: Producer;
  inspector: JobInspector;
  metrics: TvMetrics;
  /** Bearer token for `POST /api/v1/jobs/*` and `GET /api/v1/jobs/:id`; unset disables those routes (403). */
  apiToken: string | undefined;
  /** A second token that may only read jobs (`GET /api/v1/jobs/:id`). @default none */
  readToken?: string | undefined;
  /** Title of the OpenAPI document at `GET /openapi.json`. @default 'nself-tv worker' */
  title?: string;
}

/** Every error body: a stable `error` code, a message for people, the field at fault when there is one. */
class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const sameToken = (given: string, expected: string) => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

/** Fastify's own errors, in our shape. */
function fromFastify(error: FastifyError, bodyLimit: number): HttpProblem | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpProblem(400, 'bad_request', `the body is larger than ${bodyLimit} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpProblem(415, 'unsupported_media_type', 'the body must be application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpProblem(400, 'bad_request', 'the body is empty; a JSON object is expected');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpProblem(400, 'bad_request', 'the Content-Length does not match the body');
  }
  if (error.statusCode === 400) {
    // secure-json-parse refuses __proto__ and constructor.prototype keys; anything else is a syntax error.
    return /prototype/i.test(error.message)
      ? new HttpProblem(400, 'bad_request', 'the body must not contain __proto__ or constructor.prototype keys')
      : new HttpProblem(400, 'bad_request', 'the body is not valid JSON');
  }
  return undefined;
}

/**
 * Adds the worker apps' HTTP surface to a Fastify instance: `GET /health` (with
 * job counts), `GET /ready`, `GET /metrics`, `POST /api/v1/jobs/<queue>`,
 * `GET /api/v1/jobs/:id`, `GET /api/v1/queues/status` and `GET /openapi.json`. Non-Node services
 * enqueue through it. Every error answers `{error, message, field?}`, and a
 * Redis outage answers 503 on every route that needs Redis.
 */
export function registerWorkerRoutes(app: FastifyInstance, options: WorkerHttpOptions): void {
  const { queues, connection, producer, inspector, metrics, apiToken, readToken } = options;
  const mine = new Set(Object.values(queues));
  const countsOfMine = async () => (await inspector.counts()).filter((c) => mine.has(c.queue));

  const authorize = (request: FastifyRequest, access: 'read' | 'write') => {
    if (!apiToken && !(access === 'read' && readToken)) {
      throw new HttpProblem(403, 'policy_denied', 'the job API is disabled: API_TOKEN is not set');
    }
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    const accepted = [apiToken, access === 'read' ? readToken : undefined].filter((t): t is string => !!t);
    if (!given || !accepted.some((token) => sameToken(given, token))) {
      throw new HttpProblem(401, 'unauthorized', 'Authorization: Bearer <API_TOKEN> is required');
    }
  };

  app.setErrorHandler((error: FastifyError | HttpProblem, request, reply: FastifyReply) => {
    const problem =
      error instanceof HttpProblem
        ? error
        : error instanceof PayloadError
          ? new HttpProblem(400, 'bad_request', error.message, error.field || undefined)
          : error instanceof QueueError && error.code === 'REDIS_UNAVAILABLE'
            ? new HttpProblem(503, 'service_unavailable', 'Redis does not answer; retry shortly')
            : fromFastify(error, app.initialConfig.bodyLimit ?? 1_048_576);
    if (problem) {
      const { status, field } = problem;
      return reply
        .code(status)
        .send({ error: problem.error, message: problem.message, ...(field !== undefined ? { field } : {}) });
    }
    request.log.error({ err: error }, 'request failed');
    return reply
      .code(500)
      .send({ error: 'internal_error', message: 'something went wrong; the logs have the details' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );

  // Liveness must not depend on Redis: the counts in /health are best effort.
  registerProbes(app, {
    connection,
    metrics,
    health: async () => ({ queues: await countsOfMine().catch(() => null) }),
  });
  app.get('/api/v1/queues/status', async () => ({ queues: await countsOfMine() }));
  const openApi = workerOpenApi(options.title ?? 'nself-tv worker', queues);
  app.get('/openapi.json', async () => openApi);

  app.get('/api/v1/jobs/:id', async (request) => {
    authorize(request, 'read');
    const id = (request.params as { id: string }).id;
    if (!isSafeId(id)) throw new HttpProblem(400, 'bad_request', 'id: invalid job id', 'id');
    const job = await inspector.getJob(id);
    if (!job) throw new HttpProblem(404, 'not_found', `no job ${id}`);
    return job;
  });

  app.post('/api/v1/jobs/:kind', async (request, reply) => {
    authorize(request, 'write');
    const queue = queues[(request.params as { kind: string }).kind];
    if (!queue) {
      throw new HttpProblem(404, 'not_found', `no queue here; one of: ${Object.keys(queues).join(', ')}`);
    }
    const jobId = await producer.enqueue(queue, request.body as never);
    return reply.code(202).send({ jobId, queue, status: 'queued' });
  });
}
