import {
  ingestRequestJsonSchema,
  ingestStateJsonSchema,
  payloadJsonSchema,
  type QueueName,
  resultJsonSchema,
} from '@nself-tv/queues';
import { safeIdSchema } from '@nself-tv/redis-keys';
import { z } from 'zod';
import { errorBodySchema } from './service.js';

const component = (schema: Record<string, unknown>) => {
  const { $schema: _, $id: __, ...rest } = schema;
  return rest;
};
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ 'application/json': { schema } });
const problem = (description: string) => ({ description, content: json(ref('Error')) });
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
    Error: errorBodySchema([
      'bad_request',
      'unauthorized',
      'policy_denied',
      'not_found',
      'conflict',
      'unsupported_media_type',
      'service_unavailable',
      'internal_error',
    ]),
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
          400: problem('The body does not match the payload schema; `field` names what is wrong'),
          401: problem('Missing or wrong API token'),
          403: problem('The job API is disabled (API_TOKEN is not set)'),
          415: problem('The body is not application/json'),
          503: problem('Redis does not answer'),
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
        200: { description: 'The job' },
        400: problem('An id that could not be a job id'),
        401: problem('Missing or wrong API or read token'),
        404: problem('No such job'),
        503: problem('Redis does not answer'),
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
          401: problem('Missing or wrong API token'),
          403: problem('The job API is disabled (API_TOKEN is not set)'),
          409: problem('The Idempotency-Key (or ingestId) names an ingest of another media item or source'),
          503: problem('Redis does not answer'),
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
          401: problem('Missing or wrong API or read token'),
          404: problem('Unknown or expired'),
        },
      },
      delete: {
        summary: 'Cancel an ingest: its jobs that have not started are removed, a running one is aborted',
        security: [{ bearer: [] }],
        parameters: [ingestId],
        responses: {
          200: { description: 'The cancelled state', content: json(ref('IngestState')) },
          401: problem('Missing or wrong API token'),
          404: problem('Unknown or expired'),
        },
      },
    };
  }
  paths['/api/v1/queues/status'] = {
    get: { summary: "Job counts of this app's queues by state", responses: { 200: { description: 'Counts' } } },
  };
  paths['/health'] = { get: { summary: 'Liveness, with job counts', responses: { 200: { description: 'Up' } } } };
  paths['/ready'] = {
    get: {
      summary: 'Readiness: Redis answers',
      responses: { 200: { description: 'Ready' }, 503: problem('Not ready') },
    },
  };
  paths['/metrics'] = {
    get: { summary: 'Prometheus metrics', responses: { 200: { description: 'Text exposition' } } },
  };
  return {
    openapi: '3.1.0',
    info: { title, version: '0.1.0' },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'API_TOKEN (or API_READ_TOKEN to read jobs)' },
      },
      schemas,
    },
    paths,
  };
}
