import { JOB_RETENTION, QUEUE_NAMES, type QueueName } from '@nself-tv/redis-keys';
import { ConfigError, problemsFrom, type SettingProblem, type Settings } from '@nself-tv/service';
import { z } from 'zod';
import { QueueError } from './errors.js';

/** The app that consumes a queue. */
export type QueueConsumer = 'video-processor' | 'thumbnail-generator';

/** Backoff between attempts, as BullMQ takes it. */
export interface BackoffSettings {
  readonly type: 'exponential' | 'fixed';
  /** First delay in ms; exponential doubles it each attempt. */
  readonly delay: number;
}

/** Everything that governs how one queue's jobs run. */
export interface QueueSettings {
  readonly queue: QueueName;
  readonly consumer: QueueConsumer;
  /** Jobs one worker process runs at once. */
  readonly concurrency: number;
  /** Attempts before a job is failed for good. */
  readonly attempts: number;
  readonly backoff: BackoffSettings;
  /** A running job is aborted after this long (then retried like any failure). */
  readonly timeoutMs: number;
  /** BullMQ lock duration; a job whose lock is not renewed in time is stalled. */
  readonly lockDurationMs: number;
  /** How often workers look for stalled jobs. */
  readonly stalledIntervalMs: number;
}

/**
 * Default job options, exactly as the spec: 3 attempts, exponential backoff from
 * 2 s, completed jobs kept 24 h or 1000, failed jobs kept 7 days.
 */
export const DEFAULT_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: { age: JOB_RETENTION.completedAgeSeconds, count: JOB_RETENTION.completedCount },
  removeOnFail: { age: JOB_RETENTION.failedAgeSeconds, count: JOB_RETENTION.failedCount },
} as const;

const minutes = (n: number) => n * 60_000;

/** The six queues with their consumer, concurrency and timeout, as the spec gives them. */
export const QUEUE_CATALOG: Readonly<Record<QueueName, QueueSettings>> = Object.freeze({
  'video:transcode': entry('video:transcode', 'video-processor', 2, minutes(120)),
  'video:trickplay': entry('video:trickplay', 'video-processor', 2, minutes(30)),
  'video:subtitle': entry('video:subtitle', 'video-processor', 4, minutes(10)),
  'image:poster': entry('image:poster', 'thumbnail-generator', 4, minutes(5)),
  'image:sprite': entry('image:sprite', 'thumbnail-generator', 2, minutes(15)),
  'image:optimize': entry('image:optimize', 'thumbnail-generator', 4, minutes(5)),
});

function entry(queue: QueueName, consumer: QueueConsumer, concurrency: number, timeoutMs: number): QueueSettings {
  return {
    queue,
    consumer,
    concurrency,
    attempts: DEFAULT_JOB_OPTIONS.attempts,
    backoff: { ...DEFAULT_JOB_OPTIONS.backoff },
    timeoutMs,
    lockDurationMs: 30_000,
    stalledIntervalMs: 30_000,
  };
}

/** Per-queue overrides; any field left out keeps the catalog value. */
export type QueueOverrides = Partial<Omit<QueueSettings, 'queue' | 'consumer'>>;

const overridesSchema = z
  .object({
    concurrency: z.number().int().min(1).max(1000),
    attempts: z.number().int().min(1).max(100),
    backoff: z.object({ type: z.enum(['exponential', 'fixed']), delay: z.number().int().min(0) }).strict(),
    timeoutMs: z.number().int().min(100),
    lockDurationMs: z.number().int().min(500),
    stalledIntervalMs: z.number().int().min(500),
  })
  .partial()
  .strict();

/** Environment variable suffixes read by {@link queueSettingsFromEnv}. */
const ENV_FIELDS = {
  CONCURRENCY: 'concurrency',
  ATTEMPTS: 'attempts',
  BACKOFF_DELAY_MS: 'backoffDelay',
  BACKOFF_TYPE: 'backoffType',
  TIMEOUT_MS: 'timeoutMs',
  LOCK_DURATION_MS: 'lockDurationMs',
  STALLED_INTERVAL_MS: 'stalledIntervalMs',
} as const;

/** `video:transcode` → `QUEUE_VIDEO_TRANSCODE_`. */
export function queueEnvPrefix(queue: QueueName): string {
  return `QUEUE_${queue.replace(':', '_').toUpperCase()}_`;
}

/**
 * Settings of one queue: the catalog, then `overrides` (validated), so a
 * worker or producer can change concurrency, attempts, backoff or timeout.
 *
 * @throws QueueError `INVALID_QUEUE_CONFIG` naming the field.
 */
export function resolveQueueSettings(queue: QueueName, overrides: QueueOverrides = {}): QueueSettings {
  const parsed = overridesSchema.safeParse(overrides);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new QueueError('INVALID_QUEUE_CONFIG', `${queue} ${issue?.path.join('.') || 'overrides'}: ${issue?.message}`);
  }
  const base = QUEUE_CATALOG[queue];
  const o = parsed.data;
  return { ...base, ...o, backoff: o.backoff ?? base.backoff };
}

/**
 * Reads per-queue overrides from the environment, for example
 * `QUEUE_VIDEO_TRANSCODE_CONCURRENCY=1`, `QUEUE_IMAGE_POSTER_ATTEMPTS=5`,
 * `QUEUE_VIDEO_SUBTITLE_TIMEOUT_MS=60000`, `..._BACKOFF_DELAY_MS`,
 * `..._BACKOFF_TYPE` (`exponential` or `fixed`), `..._LOCK_DURATION_MS`,
 * `..._STALLED_INTERVAL_MS`.
 *
 * @throws QueueError `INVALID_QUEUE_CONFIG` naming the variable.
 */
export function queueSettingsFromEnv(queue: QueueName, env: NodeJS.ProcessEnv = process.env): QueueSettings {
  const prefix = queueEnvPrefix(queue);
  const base = QUEUE_CATALOG[queue];
  const out: Record<string, number | string> = {};
  for (const [suffix, field] of Object.entries(ENV_FIELDS)) {
    const raw = env[prefix + suffix];
    if (raw === undefined || raw === '') continue;
    if (field === 'backoffType') {
      if (raw !== 'exponential' && raw !== 'fixed') {
        throw new QueueError('INVALID_QUEUE_CONFIG', `${prefix}${suffix}: expected exponential or fixed, got '${raw}'`);
      }
      out[field] = raw;
      continue;
    }
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) {
      throw new QueueError('INVALID_QUEUE_CONFIG', `${prefix}${suffix}: expected a whole number, got '${raw}'`);
    }
    out[field] = n;
  }
  const { backoffDelay, backoffType, ...rest } = out;
  const overrides: Record<string, unknown> = { ...rest };
  if (backoffDelay !== undefined || backoffType !== undefined) {
    overrides.backoff = {
      type: (backoffType as BackoffSettings['type'] | undefined) ?? base.backoff.type,
      delay: (backoffDelay as number | undefined) ?? base.backoff.delay,
    };
  }
  try {
    return resolveQueueSettings(queue, overrides as QueueOverrides);
  } catch (error) {
    const e = error as QueueError;
    throw new QueueError('INVALID_QUEUE_CONFIG', `${prefix}*: ${e.message}`, { cause: error });
  }
}

/**
 * Attempts and backoff of all six queues from the environment, as producer
 * overrides: `createProducer({ connection, overrides: jobOverridesFromEnv() })`.
 * A producer enqueues into queues its app does not consume (an ingest's
 * fan-out), so it reads every queue's variables.
 *
 * @throws QueueError `INVALID_QUEUE_CONFIG` naming the variable.
 */
export function jobOverridesFromEnv(env: NodeJS.ProcessEnv = process.env): Record<QueueName, QueueOverrides> {
  const out = {} as Record<QueueName, QueueOverrides>;
  for (const queue of QUEUE_NAMES) {
    const { attempts, backoff } = queueSettingsFromEnv(queue, env);
    out[queue] = { attempts, backoff };
  }
  return out;
}

/** The queues one app consumes. */
export function queuesOf(consumer: QueueConsumer): QueueName[] {
  return QUEUE_NAMES.filter((q) => QUEUE_CATALOG[q].consumer === consumer);
}

/** BullMQ job options for a queue: the spec defaults with the queue's attempts and backoff. */
export function jobOptionsFor(settings: QueueSettings) {
  return {
    attempts: settings.attempts,
    backoff: { type: settings.backoff.type, delay: settings.backoff.delay },
    removeOnComplete: { ...DEFAULT_JOB_OPTIONS.removeOnComplete },
    removeOnFail: { ...DEFAULT_JOB_OPTIONS.removeOnFail },
  };
}

/** What {@link queueEnvSettings} reads for one app. */
export interface QueueEnvValues {
  /** The settings of each queue the app consumes. */
  queues: QueueSettings[];
  /** Attempts and backoff of all six queues, for the app's producer. */
  jobOverrides: Record<QueueName, QueueOverrides>;
}

/** The `QUEUE_<QUEUE>_*` variables of the queues `consumer` works on (and every queue's job options). */
export const queueEnvSettings = (consumer: QueueConsumer): Settings<QueueEnvValues> => ({
  title: 'Queues (the worker apps)',
  variables: [
    {
      name: 'QUEUE_<QUEUE>_CONCURRENCY',
      default: '2 transcode, 2 trickplay, 4 subtitle, 4 poster, 2 sprite, 4 optimize',
      meaning: 'Jobs at once per process, e.g. `QUEUE_VIDEO_TRANSCODE_CONCURRENCY=1`.',
    },
    {
      name: 'QUEUE_<QUEUE>_TIMEOUT_MS',
      default: '2 h transcode, 30 min trickplay, 10 min subtitle, 5 min poster/optimize, 15 min sprite',
      meaning: 'A job running longer is aborted (its ffmpeg killed) and counts as a failed attempt.',
    },
    {
      name: 'QUEUE_<QUEUE>_LOCK_DURATION_MS` / `_STALLED_INTERVAL_MS',
      default: '`30000` / `30000`',
      meaning: 'BullMQ lock and stalled-job check.',
    },
    {
      name: 'QUEUE_<QUEUE>_ATTEMPTS`, `_BACKOFF_DELAY_MS`, `_BACKOFF_TYPE',
      default: '`3`, `2000`, `exponential`',
      meaning: 'Job options (read by producers).',
    },
  ],
  read(env) {
    // Every queue is read, so one error names every bad variable of all six.
    const problems: SettingProblem[] = [];
    const all = new Map<QueueName, QueueSettings>();
    for (const queue of QUEUE_NAMES) {
      try {
        all.set(queue, queueSettingsFromEnv(queue, env));
      } catch (error) {
        problems.push(...problemsFrom(error));
      }
    }
    if (problems.length) throw new ConfigError(problems);
    const settingsOf = (queue: QueueName) => all.get(queue) as QueueSettings;
    const jobOverrides = Object.fromEntries(
      QUEUE_NAMES.map((q) => [q, { attempts: settingsOf(q).attempts, backoff: settingsOf(q).backoff }]),
    ) as Record<QueueName, QueueOverrides>;
    return { queues: queuesOf(consumer).map(settingsOf), jobOverrides };
  },
});
