import { randomUUID } from 'node:crypto';
import {
  awaitReplicas,
  type Keyspace,
  keyspaceFor,
  NotReplicatedError,
  type QueueName,
  type RedisClient,
  type ReplicaWait,
} from '@nself-tv/redis-keys';
import type { Queue } from 'bullmq';
import { type QueueOverrides, resolveQueueSettings } from './catalog.js';
import { whenReady } from './deadline.js';
import { PayloadError, QueueError } from './errors.js';
import { queueHandles } from './queue-handle.js';
import { safeId } from './schemas/common.js';
import { type PayloadInput, parsePayload } from './schemas/registry.js';

/** Per-job options of {@link Producer.enqueue}. */
export interface EnqueueOptions {
  /**
   * Caller-chosen job id for idempotent enqueue: the same id twice makes one job.
   * A safe id (no `:`), not all digits (BullMQ reserves those).
   * @default a random UUID: BullMQ's own ids count per queue, so `1` would exist in
   * every queue and a lookup by id (`GET /api/v1/jobs/:id`) could not tell them apart.
   */
  jobId?: string;
  /** BullMQ priority, 1 (highest) to 2 097 152. @default no priority (FIFO) */
  priority?: number;
  /** Delay before the job may run, in ms. @default 0 */
  delayMs?: number;
}

/** Options of {@link createProducer}. */
export interface ProducerOptions {
  /** A request-path connection (`createRequestConnection`) so enqueue fails fast. Not closed by the producer. */
  connection: RedisClient;
  /** Key layout. @default keyspaceFor(connection) (keys exactly as the spec; the cluster layout on a cluster) */
  keyspace?: Keyspace;
  /** Per-queue attempts/backoff overrides used as the jobs' default options. @default {} */
  overrides?: Partial<Record<QueueName, QueueOverrides>>;
  /** Longest an enqueue may take before it rejects with `REDIS_UNAVAILABLE`. @default 2000 */
  timeoutMs?: number;
  /**
   * Acknowledge an enqueue only once this many replicas have it (`WAIT`), so a failover cannot
   * lose an accepted job: `config.waitForReplicas` (`REDIS_WAIT_REPLICAS`). Costs a round trip
   * to the replica per enqueue, and enqueues fail while no replica answers.
   * @default undefined (asynchronous replication)
   */
  waitForReplicas?: ReplicaWait | undefined;
}

/** Typed, validating enqueue into the six queues. */
export interface Producer {
  /**
   * Validates and enqueues one job; returns its id.
   * @throws PayloadError `INVALID_PAYLOAD` (nothing written), QueueError `REDIS_UNAVAILABLE`, or
   * `NOT_REPLICATED` with `waitForReplicas` (written, but not yet safe from a failover).
   */
  enqueue<Q extends QueueName>(queue: Q, payload: PayloadInput<Q>, options?: EnqueueOptions): Promise<string>;
  /**
   * Validates every item, then enqueues them in one round trip; returns the ids in order.
   * One invalid item rejects the batch and nothing is written; its index is in the field path.
   */
  enqueueBulk<Q extends QueueName>(
    queue: Q,
    items: ReadonlyArray<{ payload: PayloadInput<Q>; options?: EnqueueOptions }>,
  ): Promise<string[]>;
  /** The BullMQ Queue behind a spec queue (for admin tasks). */
  queue(queue: QueueName): Queue;
  /** Closes the BullMQ queues (not the connection). */
  close(): Promise<void>;
}

function jobOpts(queue: QueueName, options: EnqueueOptions | undefined, path: string) {
  const out: { jobId: string; priority?: number; delay?: number } = { jobId: randomUUID() };
  if (!options) return out;
  if (options.jobId !== undefined) {
    const parsed = safeId.refine((v) => !/^\d+$/.test(v), 'must not be all digits').safeParse(options.jobId);
    if (!parsed.success) {
      throw new PayloadError('INVALID_PAYLOAD', queue, [
        { path: `${path}jobId`, message: parsed.error.issues[0]?.message ?? 'invalid' },
      ]);
    }
    out.jobId = parsed.data;
  }
  if (options.priority !== undefined) {
    if (!Number.isInteger(options.priority) || options.priority < 1 || options.priority > 2_097_152) {
      throw new PayloadError('INVALID_PAYLOAD', queue, [
        { path: `${path}priority`, message: 'expected an integer from 1 to 2097152' },
      ]);
    }
    out.priority = options.priority;
  }
  if (options.delayMs !== undefined) {
    if (!Number.isInteger(options.delayMs) || options.delayMs < 0) {
      throw new PayloadError('INVALID_PAYLOAD', queue, [
        { path: `${path}delayMs`, message: 'expected a whole number of ms' },
      ]);
    }
    out.delay = options.delayMs;
  }
  return out;
}

/**
 * Creates a producer. Payloads are validated against the queue's schema before
 * anything is written; jobs get the spec's default options.
 *
 * @example
 * const producer = createProducer({ connection: createRequestConnection(loadRedisConfig()) });
 * const jobId = await producer.enqueue('video:transcode', {
 *   mediaId: 'm1', familyId: 'f1',
 *   source: { bucket: 'media', key: 'uploads/m1.mkv' },
 *   output: { bucket: 'media', prefix: 'hls/m1/' },
 * });
 */
export function createProducer(options: ProducerOptions): Producer {
  const keyspace = options.keyspace ?? keyspaceFor(options.connection);
  const timeoutMs = options.timeoutMs ?? 2000;
  const queues = queueHandles(options.connection, keyspace, (queue) =>
    resolveQueueSettings(queue, options.overrides?.[queue]),
  );
  const handle = (queue: QueueName) => queues.get(queue);
  // The job is on the master; it is only reported as enqueued once the replicas asked for have it.
  const replicated = async (what: string) => {
    if (!options.waitForReplicas) return;
    try {
      await awaitReplicas(options.connection, options.waitForReplicas);
    } catch (error) {
      const code = error instanceof NotReplicatedError ? 'NOT_REPLICATED' : 'REDIS_UNAVAILABLE';
      throw new QueueError(code, `${what}: ${(error as Error).message}`, { cause: error });
    }
  };

  return {
    async enqueue(queue, payload, enqueueOptions) {
      const data = parsePayload(queue, payload);
      const opts = jobOpts(queue, enqueueOptions, '');
      const job = await whenReady(options.connection, timeoutMs, `enqueue to ${queue}`, () =>
        handle(queue).add(queue, data, opts),
      );
      await replicated(`enqueue to ${queue}`);
      return job.id as string;
    },
    async enqueueBulk(queue, items) {
      const jobs = items.map((item, i) => ({
        name: queue,
        data: parsePayload(queue, item.payload, `[${i}].payload.`),
        opts: jobOpts(queue, item.options, `[${i}].options.`),
      }));
      if (jobs.length === 0) return [];
      const added = await whenReady(options.connection, timeoutMs, `bulk enqueue to ${queue}`, () =>
        handle(queue).addBulk(jobs),
      );
      await replicated(`bulk enqueue to ${queue}`);
      return added.map((job) => job.id as string);
    },
    queue: handle,
    close: () => queues.close(),
  };
}
