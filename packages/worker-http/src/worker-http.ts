import { timingSafeEqual } from 'node:crypto';
import type { TvMetrics } from '@nself-tv/metrics';
import { type JobInspector, PayloadError, type Producer, QueueError, type QueueName } from '@nself-tv/queues';
import { isSafeId } from '@nself-tv/redis-keys';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';

/** Options of {@link registerWorkerRoutes}. */
export interface WorkerHttpOptions {
  /** The queues this app consumes, by the short name used in the URL (`transcode` → `video:transcode`). */
  queues: Record<string, QueueName>;
  /** Request-path connection for `/ready`. */
  connection: Redis;
  producer: Producer;
  inspector: JobInspector;
  metrics: TvMetrics;
  /** Bearer token for `POST /api/v1/jobs/*`; unset disables those routes (403). */
  apiToken: string | undefined;
}

const sameToken = (given: string, expected: string) => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

/**
 * Adds the worker apps' HTTP surface to a Fastify instance: `GET /health` (with
 * job counts), `GET /ready`, `GET /metrics`, `POST /api/v1/jobs/<queue>`,
 * `GET /api/v1/jobs/:id` and `GET /api/v1/queues/status`. Non-Node services
 * enqueue through it.
 */
export function registerWorkerRoutes(app: FastifyInstance, options: WorkerHttpOptions): void {
  const { queues, connection, producer, inspector, metrics, apiToken } = options;
  const mine = new Set(Object.values(queues));
  const countsOfMine = async () => (await inspector.counts()).filter((c) => mine.has(c.queue));

  app.get('/health', async () => {
    // Liveness must not depend on Redis: counts are best effort.
    const queueCounts = await countsOfMine().catch(() => null);
    return { status: 'ok', queues: queueCounts };
  });
  app.get('/ready', async (_request, reply) => {
    try {
      await connection.ping();
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ error: 'service_unavailable', message: 'Redis does not answer' });
    }
  });
  app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
  app.get('/api/v1/queues/status', async () => ({ queues: await countsOfMine() }));

  app.get('/api/v1/jobs/:id', async (request, reply) => {
    const id = (request.params as { id: string }).id;
    if (!isSafeId(id))
      return reply.code(400).send({ error: 'bad_request', message: 'id: invalid job id', field: 'id' });
    const job = await inspector.getJob(id);
    if (!job) return reply.code(404).send({ error: 'not_found', message: `no job ${id}` });
    return job;
  });

  app.post('/api/v1/jobs/:kind', async (request, reply) => {
    if (!apiToken) {
      return reply
        .code(403)
        .send({ error: 'policy_denied', message: 'job submission is disabled: API_TOKEN is not set' });
    }
    const header = request.headers.authorization ?? '';
    if (!header.startsWith('Bearer ') || !sameToken(header.slice(7), apiToken)) {
      return reply.code(401).send({ error: 'unauthorized', message: 'Authorization: Bearer <API_TOKEN> is required' });
    }
    const queue = queues[(request.params as { kind: string }).kind];
    if (!queue) {
      return reply
        .code(404)
        .send({ error: 'not_found', message: `no queue here; one of: ${Object.keys(queues).join(', ')}` });
    }
    try {
      const jobId = await producer.enqueue(queue, request.body as never);
      return reply.code(202).send({ jobId, queue, status: 'queued' });
    } catch (error) {
      if (error instanceof PayloadError) {
        return reply.code(400).send({ error: 'bad_request', message: error.message, field: error.field });
      }
      if (error instanceof QueueError && error.code === 'REDIS_UNAVAILABLE') {
        return reply
          .code(503)
          .send({ error: 'service_unavailable', message: 'the queue is unavailable; retry shortly' });
      }
      throw error;
    }
  });
}
