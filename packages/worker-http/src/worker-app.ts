import { realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { resolve, sep } from 'node:path';
import { confinement, DEFAULT_MAX_MEMORY_MB, DEFAULT_MAX_VIDEO_PIXELS, tools } from '@nself-tv/media-tools';
import { createTvMetrics } from '@nself-tv/metrics';
import {
  createJobInspector,
  createProducer,
  createQueueWorker,
  jobOverridesFromEnv,
  type QueueConsumer,
  type QueueName,
  type QueueProcessor,
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
import { createFileStorage, type MediaStorage, sweepStaleTempDirs } from '@nself-tv/storage';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import { pino } from 'pino';
import { z } from 'zod';
import { registerWorkerRoutes } from './worker-http.js';

/** The processors of an app, one per queue it consumes. */
export type WorkerProcessors = { [Q in QueueName]?: QueueProcessor<Q> };

/** Limits from the environment that processors apply to their inputs. */
export interface WorkerLimits {
  /** Largest video frame accepted, width × height (`MAX_VIDEO_PIXELS`). */
  maxVideoPixels: number;
}

/** Options of {@link runWorkerApp}. */
export interface WorkerAppOptions {
  /** The app; its queues are the catalog's queues with this consumer. */
  name: QueueConsumer;
  /** Port when `PORT` is unset. */
  defaultPort: number;
  /** URL names of the app's queues for `POST /api/v1/jobs/<name>`. */
  routes: Record<string, QueueName>;
  /** Builds the processors once the media store is open. */
  processors: (storage: MediaStorage, limits: WorkerLimits) => WorkerProcessors;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
}

const envSchema = (defaultPort: number) =>
  z.object({
    PORT: z.coerce.number().int().min(0).max(65535).default(defaultPort),
    HOST: z.string().min(1).default('0.0.0.0'),
    MEDIA_ROOT: z.string().min(1).default('./media'),
    API_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    API_READ_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    MAX_VIDEO_PIXELS: z.coerce.number().int().min(64).max(1_000_000_000).default(DEFAULT_MAX_VIDEO_PIXELS),
    FFMPEG_MAX_MEMORY_MB: z.coerce.number().int().min(256).max(1_048_576).default(DEFAULT_MAX_MEMORY_MB),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    SHUTDOWN_DEADLINE_MS: z.coerce.number().int().min(0).max(86_400_000).default(30_000),
  });

/** Past the shutdown deadline, this long for aborted jobs to unwind before the process leaves regardless. */
const FORCE_EXIT_MARGIN_MS = 5_000;

/**
 * Takes server paths out of failure reasons (status readers see them): the
 * media root becomes nothing (what remains is `bucket/key`, the caller's own
 * name for the object) and temporary folders become `<tmp>`.
 */
async function serverPathRedactor(mediaRoot: string): Promise<(text: string) => string> {
  const real = (path: string) => realpath(path).catch(() => path);
  const roots = [...new Set([mediaRoot, await real(mediaRoot)])].map((p) => [`${p}${sep}`, ''] as const);
  const temps = [...new Set([tmpdir(), await real(tmpdir())])].map((p) => [`${p}${sep}`, '<tmp>/'] as const);
  // Longest first, so a temp folder inside the media root (or the reverse) is replaced whole.
  const pairs = [...roots, ...temps].sort((a, b) => b[0].length - a[0].length);
  return (text) => pairs.reduce((out, [from, to]) => out.split(`file:${from}`).join(to).split(from).join(to), text);
}

const refuse = (name: string, message: string): never => {
  process.stderr.write(`${name}: refusing to start: ${message}\n`);
  process.exit(1);
};

/**
 * The whole worker process: reads the environment (refusing to start on a bad
 * value), opens the Redis connections and the media store, starts one worker
 * per queue of the app with its catalog or `QUEUE_*` settings, the retention
 * cleaner and the HTTP surface, logs one pino line per job event, and on
 * SIGTERM/SIGINT stops taking jobs, lets running ones finish within
 * `SHUTDOWN_DEADLINE_MS` (the rest go back to wait) and exits 0.
 */
export async function runWorkerApp(options: WorkerAppOptions): Promise<void> {
  const { name } = options;
  const env = options.env ?? process.env;
  const parsed = envSchema(options.defaultPort).safeParse(
    Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')),
  );
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return refuse(name, `${issue?.path.join('.')}: ${issue?.message}`);
  }
  const config = parsed.data;
  const log = pino({
    level: config.LOG_LEVEL,
    base: { app: name, pid: process.pid },
    redact: ['req.headers.authorization'],
  });

  let redisConfig: ReturnType<typeof loadRedisConfig>;
  let settings: ReturnType<typeof queueSettingsFromEnv>[];
  let jobOverrides: ReturnType<typeof jobOverridesFromEnv>;
  try {
    redisConfig = loadRedisConfig(env);
    settings = queuesOf(name).map((q) => queueSettingsFromEnv(q, env));
    jobOverrides = jobOverridesFromEnv(env);
  } catch (error) {
    return refuse(name, (error as Error).message);
  }

  const workerConnection = createWorkerConnection(redisConfig, { connectionName: name });
  const requestConnection = createRequestConnection(redisConfig, {
    connectionName: `${name}-http`,
    commandTimeoutMs: 2000,
  });
  for (const c of [workerConnection, requestConnection])
    c.on('error', (error) => log.warn({ err: error.message }, 'redis connection error'));
  const mediaRoot = resolve(config.MEDIA_ROOT);
  const storage = createFileStorage({ root: mediaRoot });
  tools.maxMemoryMb = config.FFMPEG_MAX_MEMORY_MB;
  const redact = await serverPathRedactor(mediaRoot);
  // Folders of a worker that was killed outright (SIGKILL, OOM, power loss) are nobody's any more.
  const swept = await sweepStaleTempDirs();
  if (swept.length) log.info({ removed: swept }, 'removed temporary folders of dead worker processes');
  // Jobs enqueued over HTTP and an ingest's fan-out both get the configured attempts and backoff.
  const producer = createProducer({ connection: requestConnection, overrides: jobOverrides });
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

  const processors = options.processors(storage, { maxVideoPixels: config.MAX_VIDEO_PIXELS });
  const workers = settings.map((s) => {
    const processor = processors[s.queue] as QueueProcessor<QueueName> | undefined;
    if (!processor) throw new Error(`${name} has no processor for ${s.queue}`);
    return createQueueWorker(s.queue, processor, {
      connection: workerConnection,
      overrides: {
        concurrency: s.concurrency,
        timeoutMs: s.timeoutMs,
        lockDurationMs: s.lockDurationMs,
        stalledIntervalMs: s.stalledIntervalMs,
      },
      shutdownDeadlineMs: config.SHUTDOWN_DEADLINE_MS,
      onEvent,
      redact,
      producer,
    });
  });
  const cleaner = startRetentionCleaner({ connection: workerConnection, queues: settings.map((s) => s.queue) });

  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  registerWorkerRoutes(app, {
    queues: options.routes,
    connection: requestConnection,
    producer,
    inspector,
    metrics,
    apiToken: config.API_TOKEN,
    readToken: config.API_READ_TOKEN,
    title: `nself-tv ${name}`,
  });
  if (!config.API_TOKEN) log.warn('API_TOKEN is not set: POST /api/v1/jobs/* is disabled (403)');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(
      { signal, deadlineMs: config.SHUTDOWN_DEADLINE_MS },
      'shutting down: no new jobs; running jobs finish or go back to wait',
    );
    // Closing talks to Redis (moving jobs back to wait, closing queues); when Redis does not
    // answer it would wait forever. The deadline holds whatever Redis does: past it, running
    // jobs' children are killed (the job's signal) and the process leaves; jobs it could not
    // hand back are recovered by BullMQ's stalled check once Redis is back.
    const graceful = (async () => {
      await app.close().catch(() => undefined);
      await Promise.all(workers.map((w) => w.close()));
      await cleaner.stop().catch(() => undefined);
      await Promise.all([producer.close(), inspector.close()]).catch(() => undefined);
      await Promise.all([workerConnection.quit(), requestConnection.quit()]).catch(() => undefined);
      return true;
    })();
    const forced = new Promise<false>((r) =>
      setTimeout(() => r(false), config.SHUTDOWN_DEADLINE_MS + FORCE_EXIT_MARGIN_MS),
    );
    const clean = await Promise.race([graceful, forced]);
    if (clean) log.info('stopped');
    else {
      log.error(
        { afterMs: config.SHUTDOWN_DEADLINE_MS + FORCE_EXIT_MARGIN_MS },
        'shutdown did not finish (Redis does not answer); leaving anyway',
      );
      workerConnection.disconnect();
      requestConnection.disconnect();
    }
    log.flush();
    process.exit(clean ? 0 : 1);
  };
  // SIGHUP too: a closed terminal must hand the jobs back like Ctrl-C does, not kill the process outright.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void shutdown(signal));

  const address = await app.listen({ port: config.PORT, host: config.HOST });
  log.info(
    {
      address,
      children: confinement(tools.maxMemoryMb),
      maxVideoPixels: config.MAX_VIDEO_PIXELS,
      redis: describeRedisConfig(redisConfig),
      mediaRoot,
      queues: settings.map((s) => `${s.queue}×${s.concurrency}`),
    },
    `${name} listening`,
  );
}
