import { realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { resolve, sep } from 'node:path';
import { createCache } from '@nself-tv/cache';
import { confinement, DEFAULT_MAX_MEMORY_MB, DEFAULT_MAX_VIDEO_PIXELS, tools } from '@nself-tv/media-tools';
import { createTvMetrics } from '@nself-tv/metrics';
import {
  type AnyPartProcessor,
  createIngestService,
  createJobInspector,
  createProducer,
  createQueueWorker,
  INGEST_LIMITS,
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
import { type MediaStorage, storageFromEnv, sweepStaleTempDirs } from '@nself-tv/storage';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import { pino } from 'pino';
import { z } from 'zod';
import { dashboardPathProblem, registerQueueDashboard } from './dashboard.js';
import { ConfigError, configFrom, parseEnv, type RunningService, runService, serviceEnvFields } from './service.js';
import { registerWorkerRoutes, WORKER_ROUTER_OPTIONS } from './worker-http.js';

/** The processors of an app, one per queue it consumes. */
export type WorkerProcessors = { [Q in QueueName]?: QueueProcessor<Q> };

/** Limits from the environment that processors apply to their inputs. */
export interface WorkerLimits {
  /** Largest video frame accepted, width × height (`MAX_VIDEO_PIXELS`). */
  maxVideoPixels: number;
  /** Source seconds per transcode chunk job (`TRANSCODE_CHUNK_SECONDS`); 0 is one pass over the whole film. */
  transcodeChunkSeconds?: number;
  /** Constant quality target of every rung, capped by its bitrate (`TRANSCODE_CRF`); null: fixed bitrates. */
  transcodeCrf?: number | null;
  /** Copy the source's video and AAC-LC audio when they already play (`TRANSCODE_COPY`). */
  transcodeCopy?: boolean;
  /** Loudness, downmix and surround of the transcode's audio (`AUDIO_*`). */
  audio?: {
    loudness: number | null;
    truePeak: number;
    downmix: 'dialogue' | 'itu';
    surround: 'ac3' | 'eac3' | null;
  };
  /** Read picture subtitles (PGS, VobSub, DVB) by OCR (`SUBTITLE_OCR`). */
  subtitleOcr?: boolean;
}

/** The part processors of an app, for the queues whose jobs split into parts. */
export type WorkerPartProcessors = { [Q in QueueName]?: AnyPartProcessor };

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
  /** Builds the part processors of the queues whose jobs split into parts. @default none */
  parts?: (storage: MediaStorage) => WorkerPartProcessors;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Serve `POST/GET/DELETE /api/v1/ingests` (the app that runs the transcode). @default false */
  ingestRoutes?: boolean;
}

const envSchema = (defaultPort: number) =>
  z.object({
    ...serviceEnvFields(defaultPort),
    MEDIA_ROOT: z.string().min(1).default('./media'),
    API_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    API_READ_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    MAX_VIDEO_PIXELS: z.coerce.number().int().min(64).max(1_000_000_000).default(DEFAULT_MAX_VIDEO_PIXELS),
    TRANSCODE_CHUNK_SECONDS: z.coerce
      .number()
      .int()
      .refine((v) => v === 0 || (v >= 4 && v <= 600), 'must be 0 (one pass) or 4 to 600')
      .default(60),
    // `off`: every rung at its fixed bitrate; a CRF: that quality target (a little finer on the small
    // rungs), the rung's bitrate its cap. 21 keeps every rung within 0.002 SSIM of the fixed rate.
    TRANSCODE_CRF: z
      .string()
      .default('21')
      .refine((v) => v === 'off' || (/^\d{1,2}$/.test(v) && Number(v) >= 1 && Number(v) <= 51), {
        message: 'must be off or a CRF from 1 to 51',
      })
      .transform((v) => (v === 'off' ? null : Number(v))),
    // `on`: a source's H.264 that every browser plays is its own top rung, its AAC-LC its own audio.
    TRANSCODE_COPY: z
      .enum(['on', 'off'], { message: 'must be on or off' })
      .default('on')
      .transform((v) => v === 'on'),
    // EBU R128 target of every stereo rendition, LUFS, or `off`: -18 is in the range AES TD1004
    // gives for streaming (-16 to -20) and low enough that most films reach it by one fixed gain.
    AUDIO_LOUDNESS: z
      .string()
      .default('-18')
      .refine((v) => v === 'off' || (/^-\d{1,2}(\.\d)?$/.test(v) && Number(v) >= -40 && Number(v) <= -5), {
        message: 'must be off or a loudness from -40 to -5 (LUFS)',
      })
      .transform((v) => (v === 'off' ? null : Number(v))),
    AUDIO_TRUE_PEAK: z
      .string()
      .default('-1')
      .refine((v) => /^-?\d(\.\d)?$/.test(v) && Number(v) >= -9 && Number(v) <= 0, {
        message: 'must be a true peak from -9 to 0 (dBTP)',
      })
      .transform(Number),
    AUDIO_DOWNMIX: z.enum(['dialogue', 'itu'], { message: 'must be dialogue or itu' }).default('dialogue'),
    AUDIO_SURROUND: z
      .enum(['ac3', 'eac3', 'off'], { message: 'must be ac3, eac3 or off' })
      .default('ac3')
      .transform((v) => (v === 'off' ? null : v)),
    // `on`: PGS, VobSub and DVB subtitle tracks are read by tesseract into WebVTT.
    SUBTITLE_OCR: z
      .enum(['on', 'off'], { message: 'must be on or off' })
      .default('on')
      .transform((v) => v === 'on'),
    FFMPEG_MAX_MEMORY_MB: z.coerce.number().int().min(256).max(1_048_576).default(DEFAULT_MAX_MEMORY_MB),
    SHUTDOWN_DEADLINE_MS: z.coerce.number().int().min(0).max(86_400_000).default(30_000),
    INGEST_RATE_PER_FAMILY_PER_MINUTE: z.coerce
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(INGEST_LIMITS.perFamilyPerMinute),
    INGEST_MAX_WAITING: z.coerce.number().int().min(1).max(1_000_000).default(INGEST_LIMITS.maxWaiting),
    DASHBOARD: z.enum(['off', 'read-only', 'read-write']).default('off'),
    DASHBOARD_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    DASHBOARD_PATH: z
      .string()
      .default('/admin/queues')
      .superRefine((path, ctx) => {
        const problem = dashboardPathProblem(path);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
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
 * Starts a worker app: reads the environment (a bad value is a
 * {@link ConfigError} naming the variable), opens the Redis connections and
 * the media store, starts one worker per queue of the app with its catalog or
 * `QUEUE_*` settings, the retention cleaner and the HTTP surface, and logs one
 * pino line per job event. `stop()` stops taking jobs, lets running ones
 * finish within `SHUTDOWN_DEADLINE_MS` (the rest go back to wait) and closes
 * everything. It neither exits nor installs signal handlers: see
 * {@link runWorkerApp}.
 */
export async function startWorkerApp(options: WorkerAppOptions): Promise<RunningService> {
  const { name } = options;
  const env = options.env ?? process.env;
  const config = parseEnv(envSchema(options.defaultPort), env);
  const log = pino({
    level: config.LOG_LEVEL,
    base: { app: name, pid: process.pid },
    redact: ['req.headers.authorization'],
  });

  // The dashboard is never open to everyone: its own token, or the app's.
  const dashboardTokens =
    config.DASHBOARD === 'off'
      ? []
      : config.DASHBOARD_TOKEN
        ? [config.DASHBOARD_TOKEN]
        : [config.API_TOKEN, config.DASHBOARD === 'read-only' ? config.API_READ_TOKEN : undefined].filter(
            (t): t is string => t !== undefined,
          );
  if (config.DASHBOARD !== 'off' && dashboardTokens.length === 0) {
    throw new ConfigError(`DASHBOARD: ${config.DASHBOARD} needs DASHBOARD_TOKEN or API_TOKEN`);
  }
  const redisConfig = configFrom(() => loadRedisConfig(env));
  const settings = configFrom(() => queuesOf(name).map((q) => queueSettingsFromEnv(q, env)));
  // Jobs enqueued over HTTP and an ingest's fan-out both get the configured attempts and backoff.
  const jobOverrides = configFrom(() => jobOverridesFromEnv(env));

  const mediaRoot = resolve(config.MEDIA_ROOT);
  const storage = configFrom(() => storageFromEnv(env, mediaRoot));
  // Every queue of the app has its processor before anything is opened.
  const processors = options.processors(storage, {
    maxVideoPixels: config.MAX_VIDEO_PIXELS,
    transcodeChunkSeconds: config.TRANSCODE_CHUNK_SECONDS,
    transcodeCrf: config.TRANSCODE_CRF,
    transcodeCopy: config.TRANSCODE_COPY,
    audio: {
      loudness: config.AUDIO_LOUDNESS,
      truePeak: config.AUDIO_TRUE_PEAK,
      downmix: config.AUDIO_DOWNMIX,
      surround: config.AUDIO_SURROUND,
    },
    subtitleOcr: config.SUBTITLE_OCR,
  });
  const parts = options.parts?.(storage) ?? {};
  const missing = settings.find((s) => !processors[s.queue]);
  if (missing) throw new Error(`${name} has no processor for ${missing.queue}`);
  tools.maxMemoryMb = config.FFMPEG_MAX_MEMORY_MB;

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
    overrides: jobOverrides,
    waitForReplicas: redisConfig.waitForReplicas,
  });
  const inspector = createJobInspector(requestConnection);
  // Whichever worker finishes an ingest drops cache:recent, so the new title shows at once.
  const cache = createCache({ connection: requestConnection });
  const ingestOn = (connection: typeof workerConnection) =>
    createIngestService({
      connection,
      producer,
      // The ingest records who may play what it makes, where the gateway reads it at admit.
      storage,
      limits: { perFamilyPerMinute: config.INGEST_RATE_PER_FAMILY_PER_MINUTE, maxWaiting: config.INGEST_MAX_WAITING },
      onCompleted: async (state) => {
        await cache.invalidateRecent();
        log.info({ ingestId: state.ingestId, mediaId: state.mediaId }, 'ingest completed; cache:recent invalidated');
      },
    });
  // Workers' stage updates wait through an outage; the HTTP routes answer 503 instead of hanging.
  const ingest = ingestOn(workerConnection);
  const ingestForRequests = ingestOn(requestConnection);
  // Only this app's queues: another app (and every replica of this one) reports the same
  // queue's counts from the same Redis, so dashboards and alerts take the max per queue.
  const ownQueues = settings.map((s) => s.queue);
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

  const workers = settings.map((s) => {
    const processor = processors[s.queue] as QueueProcessor<QueueName>;
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
      ingest,
      parts: parts[s.queue],
    });
  });
  const cleaner = startRetentionCleaner({ connection: workerConnection, queues: settings.map((s) => s.queue) });

  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: WORKER_ROUTER_OPTIONS,
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
    ...(options.ingestRoutes ? { ingest: ingestForRequests } : {}),
  });
  if (!config.API_TOKEN) log.warn('API_TOKEN is not set: POST /api/v1/jobs/* is disabled (403)');
  const dashboard =
    config.DASHBOARD === 'off'
      ? undefined
      : await registerQueueDashboard(app, {
          connection: requestConnection,
          path: config.DASHBOARD_PATH,
          mode: config.DASHBOARD,
          tokens: dashboardTokens,
          title: `nself-tv ${name} queues`,
        });

  const stop = async (signal: string) => {
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
      await Promise.all([producer.close(), inspector.close(), cache.close(), dashboard?.close()]).catch(
        () => undefined,
      );
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
    return clean;
  };

  const address = await app.listen({ port: config.PORT, host: config.HOST });
  log.info(
    {
      address,
      children: confinement(tools.maxMemoryMb),
      maxVideoPixels: config.MAX_VIDEO_PIXELS,
      redis: describeRedisConfig(redisConfig),
      mediaRoot,
      queues: settings.map((s) => `${s.queue}×${s.concurrency}`),
      dashboard: dashboard ? `${config.DASHBOARD_PATH} (${config.DASHBOARD})` : 'off',
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
export function runWorkerApp(options: WorkerAppOptions): Promise<void> {
  return runService(options.name, () => startWorkerApp(options));
}
