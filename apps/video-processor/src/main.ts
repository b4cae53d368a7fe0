import { resolve } from 'node:path';
import { createTvMetrics } from '@nself-tv/metrics';
import {
  createJobInspector,
  createProducer,
  createQueueWorker,
  queueSettingsFromEnv,
  queuesOf,
  startRetentionCleaner,
  type WorkerEvent,
} from '@nself-tv/queues';
import {
  createRequestConnection,
  createWorkerConnection,
  describeRedisConfig,
  loadRedisConfig,
} from '@nself-tv/redis-keys';
import { createFileStorage } from '@nself-tv/storage';
import { registerWorkerRoutes } from '@nself-tv/worker-http';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { z } from 'zod';
import { subtitles } from './subtitles.js';
import { transcode } from './transcode.js';
import { trickplay } from './trickplay.js';

const env = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(5005),
    HOST: z.string().min(1).default('0.0.0.0'),
    MEDIA_ROOT: z.string().min(1).default('./media'),
    API_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    SHUTDOWN_DEADLINE_MS: z.coerce.number().int().min(0).default(30_000),
  })
  .safeParse(Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== '')));
if (!env.success) {
  const issue = env.error.issues[0];
  process.stderr.write(`video-processor: refusing to start: ${issue?.path.join('.')}: ${issue?.message}\n`);
  process.exit(1);
}
const config = env.data;
const log = pino({ level: config.LOG_LEVEL, redact: ['req.headers.authorization'] });

let redisConfig: ReturnType<typeof loadRedisConfig>;
let settings: ReturnType<typeof queueSettingsFromEnv>[];
try {
  redisConfig = loadRedisConfig();
  settings = queuesOf('video-processor').map((q) => queueSettingsFromEnv(q));
} catch (error) {
  process.stderr.write(`video-processor: refusing to start: ${(error as Error).message}\n`);
  process.exit(1);
}

const workerConnection = createWorkerConnection(redisConfig, { connectionName: 'video-processor' });
const requestConnection = createRequestConnection(redisConfig, {
  connectionName: 'video-processor-http',
  commandTimeoutMs: 2000,
});
for (const c of [workerConnection, requestConnection])
  c.on('error', (error) => log.warn({ err: error.message }, 'redis connection error'));
const storage = createFileStorage({ root: resolve(config.MEDIA_ROOT) });
const producer = createProducer({ connection: requestConnection });
const inspector = createJobInspector(requestConnection);
const metrics = createTvMetrics({ queues: inspector, redis: requestConnection });

const onEvent = (event: WorkerEvent) => {
  metrics.onWorkerEvent(event);
  if (event.type === 'progress') return;
  if (event.type === 'warning') log.warn({ queue: event.queue }, event.message);
  else if (event.type === 'error') log.error({ queue: event.queue, err: event.error.message }, 'worker error');
  else if (event.type === 'failed') log[event.final ? 'error' : 'warn']({ ...event }, 'job failed');
  else log.info({ ...event }, `job ${event.type}`);
};

const processors = {
  'video:transcode': transcode,
  'video:trickplay': trickplay,
  'video:subtitle': subtitles,
} as const;
const workers = settings.map((s) => {
  const processor = processors[s.queue as keyof typeof processors];
  return createQueueWorker(
    s.queue as keyof typeof processors,
    (payload, job) => processor(payload as never, job, storage) as never,
    {
      connection: workerConnection,
      overrides: {
        concurrency: s.concurrency,
        timeoutMs: s.timeoutMs,
        lockDurationMs: s.lockDurationMs,
        stalledIntervalMs: s.stalledIntervalMs,
      },
      shutdownDeadlineMs: config.SHUTDOWN_DEADLINE_MS,
      onEvent,
    },
  );
});
const cleaner = startRetentionCleaner({ connection: workerConnection, queues: queuesOf('video-processor') });

const app = Fastify({ loggerInstance: log as FastifyBaseLogger, disableRequestLogging: true });
registerWorkerRoutes(app, {
  queues: { transcode: 'video:transcode', trickplay: 'video:trickplay', subtitle: 'video:subtitle' },
  connection: requestConnection,
  producer,
  inspector,
  metrics,
  apiToken: config.API_TOKEN,
});
if (!config.API_TOKEN) log.warn('API_TOKEN is not set: POST /api/v1/jobs/* is disabled (403)');

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info(
    { signal, deadlineMs: config.SHUTDOWN_DEADLINE_MS },
    'shutting down: no new jobs; running jobs finish or go back to wait',
  );
  await app.close().catch(() => undefined);
  await Promise.all(workers.map((w) => w.close()));
  await cleaner.stop().catch(() => undefined);
  await Promise.all([producer.close(), inspector.close()]).catch(() => undefined);
  await Promise.all([workerConnection.quit(), requestConnection.quit()]).catch(() => undefined);
  log.info('stopped');
  log.flush();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

const address = await app.listen({ port: config.PORT, host: config.HOST });
log.info(
  { address, redis: describeRedisConfig(redisConfig), mediaRoot: resolve(config.MEDIA_ROOT) },
  'video-processor listening',
);
