import { realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { sep } from 'node:path';
import { configureTools, confinement, type MediaLimits, mediaToolSettings } from '@nself-tv/media-tools';
import { createTvMetrics } from '@nself-tv/metrics';
import {
  type AnyPartProcessor,
  createIngestService,
  createJobInspector,
  createProducer,
  createQueueWorker,
  type IngestState,
  ingestObserver,
  type QueueConsumer,
  type QueueName,
  type QueueProcessor,
  queueEnvSettings,
  startRetentionCleaner,
  type WorkerEvent,
} from '@nself-tv/queues';
import {
  createRequestConnection,
  createWorkerConnection,
  describeRedisConfig,
  type RedisClient,
  redisSettings,
} from '@nself-tv/redis-keys';
import { frameworkErrors, type RunningService, runService } from '@nself-tv/service';
import { defineSettings, type Env, parseSettings, type Settings, serviceSettings } from '@nself-tv/service/settings';
import {
  hlsLayoutSettings,
  type MediaStorage,
  openStorage,
  storageSettings,
  sweepStaleTempDirs,
} from '@nself-tv/storage';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import { pino } from 'pino';
import { queueDashboard } from './dashboard.js';
import { RETRY_POLICY } from './retry-policy.js';
import { workerSettings } from './settings.js';
import { WORKER_ROUTER_OPTIONS, workerRoutes } from './worker-http.js';

/** The processors of an app, one per queue it consumes. */
export type WorkerProcessors = { [Q in QueueName]?: QueueProcessor<Q> };

/** The part processors of an app, for the queues whose jobs split into parts. */
export type WorkerPartProcessors = { [Q in QueueName]?: AnyPartProcessor };

/** What an app does when one of its ingests completes, with the request connection (its policy, not the runner's). */
export interface IngestCompletion {
  onCompleted(state: IngestState): Promise<void>;
  /** Runs at shutdown. */
  close(): Promise<void>;
}

/** Options of {@link runWorkerApp}. */
export interface WorkerAppOptions<T = undefined> {
  /** The app; its queues are the catalog's queues with this consumer. */
  name: QueueConsumer;
  /** Port when `PORT` is unset. */
  defaultPort: number;
  /** URL names of the app's queues for `POST /api/v1/jobs/<name>`. */
  routes: Record<string, QueueName>;
  /** The app's own variables, read with the runner's in one pass. @default none */
  settings?: Settings<T>;
  /** Builds the processors once the media store is open. */
  processors: (storage: MediaStorage, limits: MediaLimits, settings: T) => WorkerProcessors;
  /** Builds the part processors of the queues whose jobs split into parts. @default none */
  parts?: (storage: MediaStorage) => WorkerPartProcessors;
  /** @default process.env */
  env?: Env;
  /** Serve `POST/GET/DELETE /api/v1/ingests` (the app that runs the transcode). @default false */
  ingestRoutes?: boolean;
  /** What completing an ingest also does (the video-processor drops the recent-titles cache entry). @default nothing */
  ingestCompletion?: (connection: RedisClient) => IngestCompletion;
}

/** Every variable a worker app reads, in the order of its README tables. */
export const workerAppSettings = <T>(name: QueueConsumer, defaultPort: number, own?: Settings<T>) => ({
  service: serviceSettings(defaultPort),
  worker: workerSettings,
  media: mediaToolSettings,
  store: storageSettings,
  layout: hlsLayoutSettings,
  redis: redisSettings('queues'),
  queues: queueEnvSettings(name),
  own: own ?? defineSettings('', {}, () => undefined as T),
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

/**
 * Starts a worker app: reads every variable once (`workerAppSettings` and the
 * app's own; bad values are one `ConfigError` naming each), opens the Redis connections and
 * the media store, starts one worker per queue of the app with its catalog or
 * `QUEUE_*` settings, the retention cleaner and the HTTP surface, and logs one
 * pino line per job event. `stop()` stops taking jobs, lets running ones
 * finish within `SHUTDOWN_DEADLINE_MS` (the rest go back to wait) and closes
 * everything. It neither exits nor installs signal handlers: see
 * {@link runWorkerApp}.
 */
export async function startWorkerApp<T>(options: WorkerAppOptions<T>): Promise<RunningService> {
  const { name } = options;
  const settings = parseSettings(
    workerAppSettings(name, options.defaultPort, options.settings),
    options.env ?? process.env,
  );
  const { service, worker, media, store, queues } = settings;
  const log = pino({
    level: service.LOG_LEVEL,
    base: { app: name, pid: process.pid },
    redact: ['req.headers.authorization'],
  });
  const { mediaRoot } = store;
  const storage = await openStorage(store);
  // Every queue of the app has its processor before anything is opened.
  const processors = options.processors(storage, { maxVideoPixels: media.maxVideoPixels }, settings.own as T);
  const parts = options.parts?.(storage) ?? {};
  const missing = queues.queues.find((s) => !processors[s.queue]);
  if (missing) throw new Error(`${name} has no processor for ${missing.queue}`);
  configureTools(media.tools);
  const redisConfig = settings.redis;

  const workerConnection = createWorkerConnection(redisConfig, { connectionName: name });
  const requestConnection = createRequestConnection(redisConfig, {
    connectionName: `${name}-http`,
    commandTimeoutMs: 2000,
  });
  for (const c of [workerConnection, requestConnection])
    c.on('error', (error) => log.warn({ err: error.message }, 'redis connection error'));
  const redact = await serverPathRedactor(mediaRoot);
  // Folders of a worker that was killed outright (SIGKILL, OOM, power loss) are nobody's any more.
  const swept = await sweepStaleTempDirs();
  if (swept.length) log.info({ removed: swept }, 'removed temporary folders of dead worker processes');
  const producer = createProducer({
    connection: requestConnection,
    overrides: queues.jobOverrides,
    waitForReplicas: redisConfig.waitForReplicas,
  });
  const inspector = createJobInspector(requestConnection);
  // Whichever worker finishes an ingest runs the app's completion (the video-processor drops cache:recent).
  const completion = options.ingestCompletion?.(requestConnection);
  const ingestOn = (connection: typeof workerConnection) =>
    createIngestService({
      connection,
      producer,
      // The ingest records who may play what it makes, where the gateway reads it at admit.
      storage,
      layout: settings.layout,
      limits: worker.ingestLimits,
      onCompleted: async (state) => {
        await completion?.onCompleted(state);
        log.info({ ingestId: state.ingestId, mediaId: state.mediaId }, 'ingest completed');
      },
    });
  // Workers' stage updates wait through an outage; the HTTP routes answer 503 instead of hanging.
  const ingest = ingestOn(workerConnection);
  const ingestForRequests = ingestOn(requestConnection);
  // Only this app's queues: another app (and every replica of this one) reports the same
  // queue's counts from the same Redis, so dashboards and alerts take the max per queue.
  const ownQueues = queues.queues.map((s) => s.queue);
  const metrics = createTvMetrics({
    queues: { counts: () => inspector.counts(ownQueues) },
    queueNames: ownQueues,
    redis: requestConnection,
  });

  const onEvent = (event: WorkerEvent) => {
    metrics.onWorkerEvent(event);
    if (event.type === 'progress') return;
    if (event.type === 'warning') log.warn({ queue: event.queue }, event.message);
    else if (event.type === 'error') log.error({ queue: event.queue, err: event.error.message }, 'worker error');
    else if (event.type === 'failed') log[event.final ? 'error' : 'warn']({ ...event }, 'job failed');
    else log.info({ ...event }, `job ${event.type}`);
  };

  const observers = [ingestObserver({ ingest, producer })];
  const workers = queues.queues.map((s) => {
    const processor = processors[s.queue] as QueueProcessor<QueueName>;
    return createQueueWorker(s.queue, processor, {
      connection: workerConnection,
      overrides: {
        concurrency: s.concurrency,
        timeoutMs: s.timeoutMs,
        lockDurationMs: s.lockDurationMs,
        stalledIntervalMs: s.stalledIntervalMs,
      },
      shutdownDeadlineMs: worker.shutdownDeadlineMs,
      retryPolicy: RETRY_POLICY,
      onEvent,
      redact,
      producer,
      // The ingest's stages follow the jobs as one observer of the runner.
      observers,
      parts: parts[s.queue],
    });
  });
  const cleaner = startRetentionCleaner({ connection: workerConnection, queues: ownQueues });

  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: WORKER_ROUTER_OPTIONS,
    frameworkErrors,
  });
  await app.register(workerRoutes, {
    queues: options.routes,
    connection: requestConnection,
    producer,
    inspector,
    metrics,
    apiToken: worker.apiToken,
    readToken: worker.readToken,
    title: `nself-tv ${name}`,
    ...(options.ingestRoutes ? { ingest: ingestForRequests } : {}),
  });
  if (!worker.apiToken) log.warn('API_TOKEN is not set: POST /api/v1/jobs/* is disabled (403)');
  if (worker.dashboard) {
    await app.register(queueDashboard, {
      connection: requestConnection,
      ...worker.dashboard,
      title: `nself-tv ${name} queues`,
    });
  }
  // Everything the app opened closes with it, once its server has stopped taking requests: the
  // workers hand their jobs back (or finish them) within the deadline, then the rest.
  app.addHook('onClose', async () => {
    await Promise.all(workers.map((w) => w.close()));
    await cleaner.stop().catch(() => undefined);
    await Promise.all([producer.close(), inspector.close(), completion?.close()]).catch(() => undefined);
    await Promise.all([workerConnection.quit(), requestConnection.quit()]).catch(() => undefined);
  });

  const stop = async (signal: string) => {
    log.info(
      { signal, deadlineMs: worker.shutdownDeadlineMs },
      'shutting down: no new jobs; running jobs finish or go back to wait',
    );
    // Closing talks to Redis (moving jobs back to wait, closing queues); when Redis does not
    // answer it would wait forever. The deadline holds whatever Redis does: past it, running
    // jobs' children are killed (the job's signal) and the process leaves; jobs it could not
    // hand back are recovered by BullMQ's stalled check once Redis is back.
    const graceful = app.close().then(
      () => true,
      () => true,
    );
    const forced = new Promise<false>((r) =>
      setTimeout(() => r(false), worker.shutdownDeadlineMs + FORCE_EXIT_MARGIN_MS),
    );
    const clean = await Promise.race([graceful, forced]);
    if (clean) log.info('stopped');
    else {
      log.error(
        { afterMs: worker.shutdownDeadlineMs + FORCE_EXIT_MARGIN_MS },
        'shutdown did not finish (Redis does not answer); leaving anyway',
      );
      workerConnection.disconnect();
      requestConnection.disconnect();
    }
    return clean;
  };

  const address = await app.listen({ port: service.PORT, host: service.HOST });
  log.info(
    {
      address,
      children: confinement(media.tools.maxMemoryMb),
      maxVideoPixels: media.maxVideoPixels,
      redis: describeRedisConfig(redisConfig),
      mediaRoot,
      queues: queues.queues.map((s) => `${s.queue}×${s.concurrency}`),
      dashboard: worker.dashboard ? `${worker.dashboard.path} (${worker.dashboard.mode})` : 'off',
    },
    `${name} listening`,
  );
  return { address, stop, flush: () => log.flush() };
}

/**
 * A worker app as its entry point runs it: {@link startWorkerApp} under
 * {@link runService}, which refuses to start on a bad setting (exit 1) and on
 * SIGTERM, SIGINT or SIGHUP hands running jobs back and exits.
 */
export function runWorkerApp<T>(options: WorkerAppOptions<T>): Promise<void> {
  return runService(options.name, () => startWorkerApp(options));
}
