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
import { HttpError, httpErrors, jsonBodies, registerProbes, shared } from '@nself-tv/service';
import { StorageError } from '@nself-tv/storage';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { workerOpenApi } from './openapi.js';
import { isAcceptedToken } from './tokens.js';

/** Options of {@link workerRoutes}. */
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

/** The queues and storage packages' coded errors, in the registry's codes. */
function fromQueues(error: Error): HttpError | undefined {
  if (error instanceof PayloadError) return new HttpError('bad_request', error.message, fieldOf(error.field));
  if (error instanceof StorageError) return fromStorage(error);
  if (!(error instanceof QueueError)) return undefined;
  switch (error.code) {
    case 'INGEST_CONFLICT':
    case 'MEDIA_OWNED':
      return new HttpError('conflict', error.message);
    default:
      return undefined;
  }
}

const fieldOf = (field: string) => (field ? { field } : {});

/** A store's refusal met while answering (an ingest's ownership record): never a 500 (its outage is the service's 503). */
function fromStorage(error: StorageError): HttpError | undefined {
  switch (error.code) {
    case 'ACCESS_DENIED':
      return new HttpError(
        'store_refused',
        'the media store refused this service (denied access); nothing was started',
      );
    case 'INVALID_RECORD':
      return new HttpError('conflict', "the media item's ownership record was not written by an ingest");
    default:
      return undefined;
  }
}

/**
 * The worker apps' HTTP surface, as a plugin (`app.register(workerRoutes, options)`, applying to
 * the app it is registered on): `GET /health` (with
 * job counts), `GET /ready`, `GET /metrics`, `POST /api/v1/jobs/<queue>`,
 * `GET /api/v1/jobs/:id`, `GET /api/v1/queues/status` and `GET /openapi.json`. Non-Node services
 * enqueue through it. Every error answers `{error, message, field?}`, and a
 * Redis outage answers 503 on every route that needs Redis. With `ingest`, the ingest routes
 * (their own plugin) come too.
 */
export const workerRoutes: FastifyPluginAsync<WorkerHttpOptions> = shared(async (app, options) => {
  const { queues, connection, producer, inspector, metrics, apiToken, readToken } = options;
  const mine = Object.values(queues);
  const countsOfMine = () => inspector.counts(mine);
  await app.register(httpErrors, { fromDomain: fromQueues });
  await app.register(jsonBodies);

  const authorize: Authorize = (request, access) => {
    if (!apiToken && !(access === 'read' && readToken)) {
      throw new HttpError('policy_denied', 'the job API is disabled: API_TOKEN is not set');
    }
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    const accepted = [apiToken, access === 'read' ? readToken : undefined].filter((t): t is string => !!t);
    if (!given || !isAcceptedToken(given, accepted)) {
      throw new HttpError('unauthorized', 'Authorization: Bearer <API_TOKEN> is required');
    }
  };

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
    if (!isSafeId(id)) throw new HttpError('bad_request', 'id: invalid job id', { field: 'id' });
    // This service's own queues only: another app's jobs are that app's to tell.
    const job = await inspector.getJob(id, mine);
    if (!job) throw new HttpError('not_found', `no job ${id} in this service's queues (${mine.join(', ')})`);
    return job;
  });

  const { ingest } = options;
  if (ingest) await app.register(ingestRoutes, { ingest, authorize });

  app.post('/api/v1/jobs/:kind', async (request, reply) => {
    authorize(request, 'write');
    const queue = queues[(request.params as { kind: string }).kind];
    if (!queue) {
      throw new HttpError('not_found', `no queue here; one of: ${Object.keys(queues).join(', ')}`);
    }
    const jobId = await producer.enqueue(queue, request.body as never);
    return reply.code(202).send({ jobId, queue, status: 'queued' });
  });
});

/** Who may read or write through the worker's API: throws the `HttpError` of a refusal. */
type Authorize = (request: FastifyRequest, access: 'read' | 'write') => void;

const INGEST_NOT_FOUND = (id: string) => new HttpError('not_found', `no ingest ${id} (unknown, or expired after 24 h)`);

/**
 * Ingests over HTTP, for library services in any language. `Idempotency-Key`
 * (a safe id) becomes the ingest id, so a retried request returns the ingest the
 * first one started instead of starting a second; the same key with another
 * media item or source answers 409.
 */
const ingestRoutes: FastifyPluginAsync<{ ingest: IngestService; authorize: Authorize }> = async (
  app,
  { ingest, authorize },
) => {
  const idParam = (request: FastifyRequest) => {
    const id = (request.params as { id: string }).id;
    if (!isSafeId(id)) throw new HttpError('bad_request', 'id: invalid ingest id', { field: 'id' });
    return id;
  };

  app.post('/api/v1/ingests', async (request, reply) => {
    authorize(request, 'write');
    const body = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new HttpError('bad_request', 'the body must be a JSON object (an ingest request)');
    }
    const header = request.headers['idempotency-key'];
    const key = typeof header === 'string' ? header : undefined;
    if (key !== undefined && (!isSafeId(key) || key.length > MAX_INGEST_ID_LENGTH)) {
      throw new HttpError(
        'bad_request',
        `Idempotency-Key: 1-${MAX_INGEST_ID_LENGTH} of letters, digits, '-', '_' and '.', not only dots`,
        { field: 'Idempotency-Key' },
      );
    }
    const asked = (body as { ingestId?: unknown }).ingestId;
    if (key !== undefined && asked !== undefined && asked !== key) {
      throw new HttpError('bad_request', 'ingestId and Idempotency-Key differ; send one of them', {
        field: 'ingestId',
      });
    }
    const ingestId = key ?? (typeof asked === 'string' ? asked : undefined);
    const request_ = { ...(body as Record<string, unknown>), ...(ingestId ? { ingestId } : {}) };
    let started: Awaited<ReturnType<IngestService['begin']>>;
    try {
      started = await ingest.begin(request_ as Parameters<IngestService['begin']>[0]);
    } catch (error) {
      if (error instanceof IngestLimitError) {
        reply.header('retry-after', String(error.retryAfterSeconds));
        throw new HttpError('rate_limited', `${error.message}; retry in ${error.retryAfterSeconds} s`);
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
};
