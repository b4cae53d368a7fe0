import {
  JOB_RETENTION,
  type Keyspace,
  keyspaceFor,
  QUEUE_NAMES,
  type QueueName,
  type RedisClient,
} from '@nself-tv/redis-keys';
import type { Queue } from 'bullmq';
import { resolveQueueSettings } from './catalog.js';
import { whenReady } from './deadline.js';
import { openQueue, queueHandles } from './queue-handle.js';

/** A job as status readers see it (`GET /api/v1/jobs/:id`). Timestamps in ms. */
export interface JobStatus {
  jobId: string;
  queue: QueueName;
  state: string;
  progress: unknown;
  result: unknown;
  failedReason: string | undefined;
  attemptsMade: number;
  createdAt: number;
  processedAt: number | undefined;
  finishedAt: number | undefined;
  data: unknown;
}

/** Job counts of one queue, by state. */
export interface QueueCounts {
  queue: QueueName;
  waiting: number;
  prioritized: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
  /** Jobs waiting in a paused queue (BullMQ 6 keeps them in wait and flags the queue). */
  paused: number;
  isPaused: boolean;
}

const COUNT_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'] as const;

/** Reads jobs and counts across the six queues. */
export interface JobInspector {
  /**
   * Finds a job by id in `queues` (any of the six when omitted); `undefined` when none of them has
   * it. A service that runs some queues passes its own, so it never answers for another's jobs.
   */
  getJob(jobId: string, queues?: readonly QueueName[]): Promise<JobStatus | undefined>;
  /**
   * Counts of `queues` (every queue when omitted), in catalog order: a fixed number of Redis
   * commands per queue, whatever the job count, and none for the queues not asked for.
   */
  counts(queues?: readonly QueueName[]): Promise<QueueCounts[]>;
  close(): Promise<void>;
}

/**
 * Creates a {@link JobInspector} on a (request-path) connection, which it does
 * not close. It writes nothing. While Redis does not answer, every call rejects
 * within `timeoutMs` with `REDIS_UNAVAILABLE`: never a "not found" or an empty count.
 */
export function createJobInspector(
  connection: RedisClient,
  keyspace: Keyspace = keyspaceFor(connection),
  timeoutMs = 2000,
): JobInspector {
  const queues = queueHandles(connection, keyspace, (q) => resolveQueueSettings(q), { readOnly: true });
  const handle = (q: QueueName) => queues.get(q);
  const getJob = async (jobId: string, among: readonly QueueName[] = QUEUE_NAMES): Promise<JobStatus | undefined> => {
    const searched = QUEUE_NAMES.filter((q) => among.includes(q));
    // One round trip finds the queue: EXISTS on each queue's job hash.
    const pipeline = connection.pipeline();
    for (const q of searched) pipeline.exists(keyspace.queueKey(q, jobId));
    const found = (await pipeline.exec()) ?? [];
    // A pipeline reports failures per command; a failed EXISTS is an outage, not a missing job.
    const failed = found.find(([error]) => error);
    if (failed?.[0]) throw failed[0];
    const index = found.findIndex(([, n]) => n === 1);
    const q = searched[index];
    if (!q) return undefined;
    // State first: a job moves to completed/failed in the same script that writes its
    // result, so a finished state is never paired with an unfinished hash.
    const state = await handle(q).getJobState(jobId);
    const job = await handle(q).getJob(jobId);
    if (!job) return undefined;
    return {
      jobId,
      queue: q,
      state,
      progress: job.progress,
      result: job.returnvalue ?? undefined,
      failedReason: job.failedReason || undefined,
      attemptsMade: job.attemptsMade,
      createdAt: job.timestamp,
      processedAt: job.processedOn ?? undefined,
      finishedAt: job.finishedOn ?? undefined,
      data: job.data,
    };
  };
  return {
    getJob: (jobId, among) => whenReady(connection, timeoutMs, `job ${jobId}`, () => getJob(jobId, among)),
    counts: (asked) =>
      whenReady(connection, timeoutMs, 'queue counts', () =>
        Promise.all(
          QUEUE_NAMES.filter((q) => !asked || asked.includes(q)).map(async (q) => {
            const queue = handle(q);
            const [counts, isPaused] = await Promise.all([queue.getJobCounts(...COUNT_STATES), queue.isPaused()]);
            const byState = Object.fromEntries(COUNT_STATES.map((s) => [s, counts[s] ?? 0])) as Record<
              (typeof COUNT_STATES)[number],
              number
            >;
            return { queue: q, ...byState, paused: isPaused ? byState.waiting + byState.prioritized : 0, isPaused };
          }),
        ),
      ),
    close: () => queues.close(),
  };
}

/** Retention of finished jobs, in ms. */
export interface Retention {
  /** @default `JOB_RETENTION.completedAgeSeconds` (24 h, as the spec) in ms */
  completedAgeMs?: number;
  /** @default `JOB_RETENTION.failedAgeSeconds` (7 days, as the spec) in ms */
  failedAgeMs?: number;
}

/** Options of {@link startRetentionCleaner}. */
export interface RetentionCleanerOptions {
  connection: RedisClient;
  keyspace?: Keyspace;
  /** Queues to clean. @default all six */
  queues?: readonly QueueName[];
  /** @default 60000 */
  intervalMs?: number;
  retention?: Retention;
  /** Jobs removed per queue, state and call, so one pass never blocks Redis long. @default 1000 */
  batchSize?: number;
  /** Called with what each pass removed, or with an error. */
  onPass?: (removed: { queue: QueueName; completed: number; failed: number }[], error?: Error) => void;
}

/** A periodic cleaner. */
export interface RetentionCleaner {
  /** Runs one pass now; returns how many jobs it removed per queue. */
  runOnce(): Promise<{ queue: QueueName; completed: number; failed: number }[]>;
  stop(): Promise<void>;
}

/**
 * Enforces the spec's retention (completed 24 h, failed 7 days) on a timer.
 * BullMQ only applies `removeOnComplete`/`removeOnFail` ages when another job
 * finishes, so an idle queue would otherwise keep its failed jobs forever.
 */
export function startRetentionCleaner(options: RetentionCleanerOptions): RetentionCleaner {
  const keyspace = options.keyspace ?? keyspaceFor(options.connection);
  const names = options.queues ?? QUEUE_NAMES;
  const completedAge = options.retention?.completedAgeMs ?? JOB_RETENTION.completedAgeSeconds * 1000;
  const failedAge = options.retention?.failedAgeMs ?? JOB_RETENTION.failedAgeSeconds * 1000;
  const batch = options.batchSize ?? 1000;
  const queues = names.map((q) => ({
    name: q,
    queue: openQueue(q, options.connection, keyspace, resolveQueueSettings(q)),
  }));
  for (const { queue } of queues) queue.on('error', () => undefined);

  const drain = async (queue: Queue, age: number, state: 'completed' | 'failed') => {
    let total = 0;
    for (;;) {
      const removed = await queue.clean(age, batch, state);
      total += removed.length;
      if (removed.length < batch) return total;
    }
  };
  const runOnce = () =>
    Promise.all(
      queues.map(async ({ name, queue }) => ({
        queue: name,
        completed: await drain(queue, completedAge, 'completed'),
        failed: await drain(queue, failedAge, 'failed'),
      })),
    );
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = runOnce()
      .then((removed) => options.onPass?.(removed))
      .catch((error: Error) => options.onPass?.([], error));
  }, options.intervalMs ?? 60_000);
  timer.unref();
  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await running;
      await Promise.all(queues.map(({ queue }) => queue.close()));
    },
  };
}
