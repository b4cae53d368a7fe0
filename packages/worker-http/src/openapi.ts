import {
  ingestRequestJsonSchema,
  ingestStateJsonSchema,
  payloadJsonSchema,
  type QueueName,
  resultJsonSchema,
} from '@nself-tv/queues';
import { safeIdSchema } from '@nself-tv/redis-keys';
import { errorBodySchema, type HttpErrorCode } from '@nself-tv/service';
import { z } from 'zod';

const component = (schema: Record<string, unknown>) => {
  const { $schema: _, $id: __, ...rest } = schema;
  return rest;
};
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ 'application/json': { schema } });
const problem = (description: string) => ({ description, content: json(ref('Error')) });
/** Answers every job and ingest route can give besides its own. */
const common = (read: boolean) => ({
  401: problem(read ? 'Missing or wrong API or read token' : 'Missing or wrong API token'),
  403: problem('The job API is disabled (API_TOKEN is not set)'),
  500: problem('A fault; the logs have the details'),
  503: problem('Redis does not answer'),
});
/** The `error` codes the worker apps answer, each with its status in `HTTP_ERRORS`. */
export const WORKER_ERROR_CODES: readonly HttpErrorCode[] = [
  'bad_request',
  'unauthorized',
  'policy_denied',
  'not_found',
  'conflict',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'service_unavailable',
  'store_refused',
  'internal_error',
];
/** What a route that takes a body answers besides its own. */
const bodyProblems = {
  413: problem('The body is larger than the limit (1 MiB)'),
  415: problem('The body is not application/json'),
};
const queueCounts = {
  type: 'object',
  required: ['queue', 'waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed', 'paused', 'isPaused'],
  properties: {
    queue: { type: 'string' },
    ...Object.fromEntries(
      ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed', 'paused'].map((k) => [
        k,
        { type: 'integer', minimum: 0 },
      ]),
    ),
    isPaused: { type: 'boolean' },
  },
};
const jobStatus = {
  type: 'object',
  required: ['jobId', 'queue', 'state', 'attemptsMade', 'createdAt'],
  properties: {
    jobId: { type: 'string' },
    queue: { type: 'string' },
    state: {
      enum: ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed', 'waiting-children', 'unknown'],
    },
    progress: { description: 'What the job last reported: a number 0–100, or an object' },
    result: { description: 'The result, once completed: the queue’s result schema' },
    failedReason: { type: 'string', description: 'Why the last attempt failed; no server paths' },
    attemptsMade: { type: 'integer', minimum: 0 },
    createdAt: { type: 'integer', description: 'ms since the epoch' },
    processedAt: { type: 'integer' },
    finishedAt: { type: 'integer' },
    data: { description: 'The payload, as enqueued' },
  },
};
/** `video:transcode` → `VideoTranscode`. */
const typeName = (queue: QueueName) =>
  queue
    .split(':')
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');

/**
 * The OpenAPI 3.1 document of a worker app's job API, served at `GET /openapi.json`.
 * Request and result bodies are the queues' own JSON Schemas, which are generated
 * from the zod schemas the routes validate with, so the two cannot drift.
 */
export function workerOpenApi(
  title: string,
  queues: Record<string, QueueName>,
  options: { ingests?: boolean } = {},
): Record<string, unknown> {
  const schemas: Record<string, unknown> = {
    JobStatus: jobStatus,
    QueueCounts: queueCounts,
    // Conflicts and rate limits are the ingest routes' alone.
    Error: errorBodySchema(
      options.ingests
        ? WORKER_ERROR_CODES
        : WORKER_ERROR_CODES.filter((c) => c !== 'conflict' && c !== 'rate_limited' && c !== 'store_refused'),
    ),
  };
  const paths: Record<string, unknown> = {};
  for (const [kind, queue] of Object.entries(queues)) {
    const name = typeName(queue);
    schemas[`${name}Payload`] = component(payloadJsonSchema(queue));
    schemas[`${name}Result`] = component(resultJsonSchema(queue));
    paths[`/api/v1/jobs/${kind}`] = {
      post: {
        summary: `Enqueue a ${queue} job`,
        security: [{ bearer: [] }],
        requestBody: { required: true, content: json(ref(`${name}Payload`)) },
        responses: {
          202: {
            description: `Queued; the result, once completed, is a ${name}Result`,
            content: json({
              type: 'object',
              required: ['jobId', 'queue', 'status'],
              properties: { jobId: { type: 'string' }, queue: { const: queue }, status: { const: 'queued' } },
            }),
          },
          400: problem('The body does not match the payload schema, or is not JSON; `field` names what is wrong'),
          ...common(false),
          ...bodyProblems,
        },
      },
    };
  }
  const idSchema = component(z.toJSONSchema(safeIdSchema, { io: 'input' }) as Record<string, unknown>);
  paths['/api/v1/jobs/{id}'] = {
    get: {
      summary: "A job's state, progress, result or failure reason, in any queue of this app",
      security: [{ bearer: [] }],
      parameters: [{ name: 'id', in: 'path', required: true, schema: idSchema }],
      responses: {
        200: { description: 'The job', content: json(ref('JobStatus')) },
        400: problem('An id that could not be a job id'),
        ...common(true),
        404: problem('No such job in this app’s queues (another app’s jobs are read from that app)'),
      },
    },
  };
  if (options.ingests) {
    schemas.IngestRequest = component(ingestRequestJsonSchema());
    schemas.IngestState = component(ingestStateJsonSchema());
    const ingestId = { name: 'id', in: 'path', required: true, schema: idSchema };
    paths['/api/v1/ingests'] = {
      post: {
        summary: 'Start an ingest: transcode, then trickplay, subtitles, posters and sprites',
        security: [{ bearer: [] }],
        parameters: [
          {
            name: 'Idempotency-Key',
            in: 'header',
            required: false,
            schema: idSchema,
            description:
              'Becomes the ingest id: a retried request returns the ingest the first one started (`replayed: true`). The same key for another media item or source answers 409.',
          },
        ],
        requestBody: { required: true, content: json(ref('IngestRequest')) },
        responses: {
          202: {
            description: 'Started (or, with a key seen before, the ingest it started); `Location` is its status URL',
            content: json({
              type: 'object',
              required: ['ingestId', 'status', 'replayed'],
              properties: { ingestId: { type: 'string' }, status: { type: 'string' }, replayed: { type: 'boolean' } },
            }),
          },
          400: problem('The body does not match IngestRequest, or a bad Idempotency-Key'),
          ...common(false),
          409: problem(
            'The Idempotency-Key (or ingestId) names another request, or the media item belongs to another family',
          ),
          ...bodyProblems,
          429: problem('Too many ingests: this family’s, or everyone’s; `Retry-After` says when to retry'),
          502: problem('The media store refused this service (its credentials): nothing was started or recorded'),
          503: problem('Redis or the media store does not answer: nothing was started or recorded'),
        },
      },
    };
    paths['/api/v1/ingests/{id}'] = {
      get: {
        summary: "An ingest's state: status, progress, every stage (kept 24 h)",
        security: [{ bearer: [] }],
        parameters: [ingestId],
        responses: {
          200: { description: 'The state', content: json(ref('IngestState')) },
          400: problem('An id that could not be an ingest id'),
          ...common(true),
          404: problem('Unknown or expired'),
        },
      },
      delete: {
        summary: 'Cancel an ingest: its jobs that have not started are removed, a running one is aborted',
        security: [{ bearer: [] }],
        parameters: [ingestId],
        responses: {
          200: { description: 'The cancelled state', content: json(ref('IngestState')) },
          400: problem('An id that could not be an ingest id'),
          ...common(false),
          404: problem('Unknown or expired'),
        },
      },
    };
  }
  const countsBody = (extra: Record<string, unknown>) =>
    json({
      type: 'object',
      required: ['queues', ...Object.keys(extra)],
      properties: { ...extra, queues: { type: 'array', items: ref('QueueCounts') } },
    });
  paths['/api/v1/queues/status'] = {
    get: {
      summary: "Job counts of this app's queues by state",
      responses: { 200: { description: 'Counts', content: countsBody({}) }, 503: problem('Redis does not answer') },
    },
  };
  paths['/health'] = {
    get: {
      summary: 'Liveness, with job counts (null while Redis does not answer: liveness never depends on it)',
      responses: {
        200: {
          description: 'Up',
          content: json({
            type: 'object',
            required: ['status'],
            properties: {
              status: { const: 'ok' },
              queues: { oneOf: [{ type: 'null' }, { type: 'array', items: ref('QueueCounts') }] },
            },
          }),
        },
      },
    },
  };
  paths['/ready'] = {
    get: {
      summary: 'Readiness: Redis answers',
      responses: {
        200: {
          description: 'Ready',
          content: json({ type: 'object', required: ['status'], properties: { status: { const: 'ready' } } }),
        },
        503: problem('Not ready; `message` says why'),
      },
    },
  };
  paths['/metrics'] = {
    get: {
      summary: 'Prometheus metrics',
      responses: { 200: { description: 'Text exposition', content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
  };
  paths['/openapi.json'] = {
    get: {
      summary: 'This document',
      responses: { 200: { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } },
    },
  };
  return {
    openapi: '3.1.0',
    info: { title, version: '0.1.0' },
    // Relative: the document describes the server it is served from, whatever host or proxy that is.
    servers: [{ url: '/', description: 'this app' }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'API_TOKEN (or API_READ_TOKEN to read jobs)' },
      },
      schemas,
    },
    paths,
  };
}
