import type { TvMetrics } from '@nself-tv/metrics';
import {
  IngestLimitError,
  type IngestService,
  type JobInspector,
  MAX_INGEST_ID_LENGTH,
  PayloadError,
  type Producer,
  QueueError,
  type QueueName,
} from '@nself-tv/queues';
import { isSafeId, type RedisClient } from '@nself-tv/redis-keys';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { workerOpenApi } from './openapi.js';
import { registerProbes } from './service.js';
import { isAcceptedToken } from './tokens.js';

/** Options of {@link registerWorkerRoutes}. */
export interface WorkerHttpOptions {
  /** The queues this app consumes, by the short name used in the URL (`transcode` → `video:transcode`). */
  queues: Record<string, QueueName>;
  /** Request-path connection for `/ready`. */
  connection: RedisClient;
  producer: Producer;
  inspector: JobInspector;
  metrics: TvMetrics;
  /** Bearer token for `POST /api/v1/jobs/*` and `GET /api/v1/jobs/:id`; unset disables those routes (403). */
  apiToken: string | undefined;
  /** A second token that may only read jobs (`GET /api/v1/jobs/:id`). @default none */
  readToken?: string | undefined;
  /** Title of the OpenAPI document at `GET /openapi.json`. @default 'nself-tv worker' */
  title?: string;
  /** Serves `POST/GET/DELETE /api/v1/ingests` through this service (the video-processor). @default off */
  ingest?: IngestService;
}

/**
 * Router options the worker routes need from the Fastify instance they are added to: every safe
 * id (up to 128 characters) must be readable back at `/api/v1/jobs/:id` and `/api/v1/ingests/:id`
 * (Fastify's default stops path parameters at 100).
 */
export const WORKER_ROUTER_OPTIONS = { maxParamLength: 256 } as const;

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
  const mine = Object.values(queues);
  const countsOfMine = () => inspector.counts(mine);
  // Bodies are JSON only: Fastify's own text/plain parser would turn a wrong content type into a
  // string that fails the schema (400) instead of the 415 the API documents.
  app.removeContentTypeParser('text/plain');

  const authorize = (request: FastifyRequest, access: 'read' | 'write') => {
    if (!apiToken && !(access === 'read' && readToken)) {
      throw new HttpProblem(403, 'policy_denied', 'the job API is disabled: API_TOKEN is not set');
    }
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    const accepted = [apiToken, access === 'read' ? readToken : undefined].filter((t): t is string => !!t);
    if (!given || !isAcceptedToken(given, accepted)) {
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
            : error instanceof QueueError && error.code === 'REDIS_FULL'
              ? new HttpProblem(503, 'service_unavailable', 'Redis is full: nothing was queued; retry later')
              : error instanceof QueueError && error.code === 'NOT_REPLICATED'
                ? new HttpProblem(
                    503,
                    'service_unavailable',
                    'the job could not be confirmed on the replicas; retry shortly',
                  )
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
  const openApi = workerOpenApi(options.title ?? 'nself-tv worker', queues, { ingests: options.ingest !== undefined });
  app.get('/openapi.json', async () => openApi);

  app.get('/api/v1/jobs/:id', async (request) => {
    authorize(request, 'read');
    const id = (request.params as { id: string }).id;
    if (!isSafeId(id)) throw new HttpProblem(400, 'bad_request', 'id: invalid job id', 'id');
    const job = await inspector.getJob(id);
    if (!job) throw new HttpProblem(404, 'not_found', `no job ${id}`);
    return job;
  });

  const { ingest } = options;
  if (ingest) registerIngestRoutes(app, ingest, authorize);

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

const INGEST_NOT_FOUND = (id: string) =>
  new HttpProblem(404, 'not_found', `no ingest ${id} (unknown, or expired after 24 h)`);

/**
 * Ingests over HTTP, for library services in any language. `Idempotency-Key`
 * (a safe id) becomes the ingest id, so a retried request returns the ingest the
 * first one started instead of starting a second; the same key with another
 * media item or source answers 409.
 */
function registerIngestRoutes(
  app: FastifyInstance,
  ingest: IngestService,
  authorize: (request: FastifyRequest, access: 'read' | 'write') => void,
) {
  const idParam = (request: FastifyRequest) => {
    const id = (request.params as { id: string }).id;
    if (!isSafeId(id)) throw new HttpProblem(400, 'bad_request', 'id: invalid ingest id', 'id');
    return id;
  };

  app.post('/api/v1/ingests', async (request, reply) => {
    authorize(request, 'write');
    const body = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new HttpProblem(400, 'bad_request', 'the body must be a JSON object (an ingest request)');
    }
    const header = request.headers['idempotency-key'];
    const key = typeof header === 'string' ? header : undefined;
    if (key !== undefined && (!isSafeId(key) || key.length > MAX_INGEST_ID_LENGTH)) {
      throw new HttpProblem(
        400,
        'bad_request',
        `Idempotency-Key: 1-${MAX_INGEST_ID_LENGTH} of letters, digits, '-', '_' and '.', not only dots`,
        'Idempotency-Key',
      );
    }
    const asked = (body as { ingestId?: unknown }).ingestId;
    if (key !== undefined && asked !== undefined && asked !== key) {
      throw new HttpProblem(400, 'bad_request', 'ingestId and Idempotency-Key differ; send one of them', 'ingestId');
    }
    const ingestId = key ?? (typeof asked === 'string' ? asked : undefined);
    const request_ = { ...(body as Record<string, unknown>), ...(ingestId ? { ingestId } : {}) };
    let started: Awaited<ReturnType<IngestService['begin']>>;
    try {
      started = await ingest.begin(request_ as Parameters<IngestService['begin']>[0]);
    } catch (error) {
      if (error instanceof QueueError && (error.code === 'INGEST_CONFLICT' || error.code === 'MEDIA_OWNED')) {
        throw new HttpProblem(409, 'conflict', error.message);
      }
      if (error instanceof IngestLimitError) {
        reply.header('retry-after', String(error.retryAfterSeconds));
        throw new HttpProblem(429, 'rate_limited', `${error.message}; retry in ${error.retryAfterSeconds} s`);
      }
      throw error;
    }
    const { state, replayed } = started;
    return reply
      .code(202)
      .header('location', `/api/v1/ingests/${state.ingestId}`)
      .send({ ingestId: state.ingestId, status: state.status, replayed });
  });

  app.get('/api/v1/ingests/:id', async (request) => {
    authorize(request, 'read');
    const id = idParam(request);
    const state = await ingest.get(id);
    if (!state) throw INGEST_NOT_FOUND(id);
    return state;
  });

  app.delete('/api/v1/ingests/:id', async (request) => {
    authorize(request, 'write');
    const id = idParam(request);
    try {
      return await ingest.cancel(id);
    } catch (error) {
      if (error instanceof QueueError && error.code === 'INGEST_NOT_FOUND') throw INGEST_NOT_FOUND(id);
      throw error;
    }
  });
}
