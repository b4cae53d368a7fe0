import { JOB_RETENTION, QUEUE_NAMES, type QueueName } from '@nself-tv/redis-keys';
import { defineSettings, type Settings, wholeNumber } from '@nself-tv/service/settings';
import { z } from 'zod';
import { QueueError } from './errors.js';

/** The app that consumes a queue. */
export type QueueConsumer = 'video-processor' | 'thumbnail-generator';

/** Backoff between attempts, as BullMQ takes it. */
const backoffSchema = z
  .object({
    type: z.enum(['exponential', 'fixed']),
    /** First delay in ms; exponential doubles it each attempt. */
    delay: z.number().int().min(0),
  })
  .strict();
/** Backoff between attempts, as BullMQ takes it. */
export type BackoffSettings = Readonly<z.infer<typeof backoffSchema>>;

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
    backoff: backoffSchema,
    timeoutMs: z.number().int().min(100),
    lockDurationMs: z.number().int().min(500),
    stalledIntervalMs: z.number().int().min(500),
  })
  .partial()
  .strict();

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

/** `video:transcode` → `QUEUE_VIDEO_TRANSCODE_`. */
function queueEnvPrefix(queue: QueueName): string {
  return `QUEUE_${queue.replace(':', '_').toUpperCase()}_`;
}

/** The variables of one queue, by suffix, with the bounds of {@link resolveQueueSettings}' overrides. */
const QUEUE_VARIABLES = {
  CONCURRENCY: wholeNumber(1, 1000),
  ATTEMPTS: wholeNumber(1, 100),
  BACKOFF_DELAY_MS: wholeNumber(0, 86_400_000),
  BACKOFF_TYPE: z.enum(['exponential', 'fixed'], { error: 'expected exponential or fixed' }),
  TIMEOUT_MS: wholeNumber(100, 2_147_483_647),
  LOCK_DURATION_MS: wholeNumber(500, 2_147_483_647),
  STALLED_INTERVAL_MS: wholeNumber(500, 2_147_483_647),
} as const;
type QueueVariable = keyof typeof QUEUE_VARIABLES;

/** Every `QUEUE_<QUEUE>_<SUFFIX>` variable of the six queues, each optional. */
const queueShape = Object.fromEntries(
  QUEUE_NAMES.flatMap((queue) =>
    Object.entries(QUEUE_VARIABLES).map(([suffix, schema]) => [queueEnvPrefix(queue) + suffix, schema.optional()]),
  ),
) as Record<string, z.ZodOptional<(typeof QUEUE_VARIABLES)[QueueVariable]>>;

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

/** What the README shows of the 42 variables: one row per kind. */
const QUEUE_ROWS = [
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
];

/**
 * The `QUEUE_<QUEUE>_*` variables of the queues `consumer` works on, and every queue's attempts
 * and backoff for the app's producer (an ingest's fan-out enqueues into queues the app does not
 * consume). Every queue is read, so one error names every bad variable of all six.
 */
export const queueEnvSettings = (consumer: QueueConsumer): Settings<QueueEnvValues> =>
  defineSettings(
    'Queues (the worker apps)',
    queueShape,
    (values) => {
      const settingsOf = (queue: QueueName): QueueSettings => {
        const base = QUEUE_CATALOG[queue];
        const read = (suffix: QueueVariable) => values[queueEnvPrefix(queue) + suffix];
        const whole = (suffix: QueueVariable, fallback: number) => (read(suffix) as number | undefined) ?? fallback;
        const type = read('BACKOFF_TYPE') as BackoffSettings['type'] | undefined;
        return {
          ...base,
          concurrency: whole('CONCURRENCY', base.concurrency),
          attempts: whole('ATTEMPTS', base.attempts),
          backoff: { type: type ?? base.backoff.type, delay: whole('BACKOFF_DELAY_MS', base.backoff.delay) },
          timeoutMs: whole('TIMEOUT_MS', base.timeoutMs),
          lockDurationMs: whole('LOCK_DURATION_MS', base.lockDurationMs),
          stalledIntervalMs: whole('STALLED_INTERVAL_MS', base.stalledIntervalMs),
        };
      };
      const jobOverrides = Object.fromEntries(
        QUEUE_NAMES.map((q) => {
          const { attempts, backoff } = settingsOf(q);
          return [q, { attempts, backoff }];
        }),
      ) as Record<QueueName, QueueOverrides>;
      return { queues: queuesOf(consumer).map(settingsOf), jobOverrides };
    },
    { rows: QUEUE_ROWS },
  );
