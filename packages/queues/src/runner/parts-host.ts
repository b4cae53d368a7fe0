import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Keyspace, type QueueName, type RedisClient, releaseHeldLock } from '@nself-tv/redis-keys';
import { Job } from 'bullmq';
import { PayloadError } from '../errors.js';
import type { Producer } from '../producer.js';
import type { JobPart } from './context.js';
import type { CompletedPart, ObservedRun, PartParentInfo, RunObserver } from './observers.js';
import {
  type AnyPartProcessor,
  PART_JOB_NAME,
  type PartJobData,
  type PartParent,
  partPriority,
  payloadOf,
  resultsByKey,
  savedParts,
} from './parts.js';

/** How long a part holds its parent's lock at most, and waits for it. */
const PART_LOCK_MS = 30_000;

/** What the parts and the observers of one queue worker need from it. */
export interface PartsHostOptions {
  queue: QueueName;
  keyspace: Keyspace;
  connection: RedisClient;
  /** The producer parts are added through, made when first needed. */
  producer: () => Producer;
  parts: AnyPartProcessor | undefined;
  observers: readonly RunObserver[];
  /** Where an observer's or a completed part's failure is reported. */
  onError: (error: Error) => void;
}

/**
 * A queue worker's parts (adding them, the lock they share with their job, their parent's saved
 * plan and completed results) and its observers (the view of a run they are offered, their hooks,
 * a completed part's news): what the worker's job loop calls, kept out of it.
 */
export function createPartsHost({
  queue,
  keyspace,
  connection,
  producer,
  parts,
  observers,
  onError,
}: PartsHostOptions) {
  const ensureProducer = producer;
  const addParts = async (job: Job, parts: readonly JobPart[]) => {
    const parentId = job.id as string;
    const parent: PartJobData['parent'] = { jobId: parentId };
    await ensureProducer()
      .queue(queue)
      .addBulk(
        parts.map((p, i) => ({
          name: PART_JOB_NAME,
          data: { part: p.data, parent } satisfies PartJobData,
          opts: {
            jobId: `${parentId}-${p.key}`,
            priority: partPriority(job.opts.priority, p.order ?? i),
            parent: { id: parentId, queue: job.queueQualifiedName },
            failParentOnFailure: true,
          },
        })),
      );
  };
  const exclusive = async <T>(jobId: string, fn: () => Promise<T>): Promise<T | undefined> => {
    const key = keyspace.partsLock(queue, jobId);
    const token = randomBytes(8).toString('hex');
    const until = Date.now() + PART_LOCK_MS;
    while ((await connection.set(key, token, 'PX', PART_LOCK_MS, 'NX')) === null) {
      if (Date.now() > until) return undefined;
      await sleep(50);
    }
    try {
      return await fn();
    } finally {
      await releaseHeldLock(connection, key, token).catch(() => undefined);
    }
  };
  const parentJob = (jobId: string) => Job.fromId(ensureProducer().queue(queue), jobId);
  const parentFor = (jobId: string): PartParent => ({
    jobId,
    exclusive: (fn) => exclusive(jobId, fn),
    async completedParts() {
      const job = await parentJob(jobId);
      return job ? resultsByKey(job) : new Map();
    },
    async plan() {
      return savedParts((await parentJob(jobId))?.data)?.plan;
    },
  });
  /** The parent of a part, as observers see it: its payload is read once, when first asked. */
  const parentInfo = (jobId: string): PartParentInfo => {
    let payload: Promise<unknown> | undefined;
    return {
      jobId,
      payload: () => {
        payload ??= parentJob(jobId).then((job) => (job ? payloadOf(job.data) : undefined));
        return payload;
      },
    };
  };
  /** The hooks of every observer that watches a run. */
  const watchers = (run: ObservedRun) => {
    if (observers.length === 0) return [];
    const hooks = [];
    for (const observer of observers) {
      const watched = observer.watch?.(run);
      if (watched) hooks.push(watched);
    }
    return hooks;
  };
  const observed = (job: Job, attempt: number, data: unknown, isPart: boolean): ObservedRun => {
    const parentId = isPart ? (job.data as Partial<PartJobData> | null)?.parent?.jobId : undefined;
    return {
      queue,
      jobId: job.id as string,
      attempt,
      data,
      parent: typeof parentId === 'string' ? parentInfo(parentId) : undefined,
    };
  };
  const parsePart = (data: unknown): never => {
    if (!parts) {
      throw new PayloadError('INVALID_PAYLOAD', queue, [{ path: '', message: 'this worker runs no parts' }]);
    }
    return parts.parse((data as Partial<PartJobData> | null)?.part) as never;
  };

  const afterPart = async (job: Job, result: unknown) => {
    const data = job.data as PartJobData;
    const parentId = data.parent.jobId;
    const effect = await parts?.completed?.(parsePart(data), result, parentFor(parentId));
    const interested = observers.filter((o) => o.partCompleted);
    if (interested.length === 0) return;
    const part: CompletedPart = {
      queue,
      jobId: job.id as string,
      parent: parentInfo(parentId),
      async progress() {
        const parent = await parentJob(parentId);
        const counts = await parent?.getDependenciesCount({ processed: true, unprocessed: true });
        const done = counts?.processed ?? 0;
        return { done, total: done + (counts?.unprocessed ?? 0) };
      },
    };
    for (const observer of interested) await observer.partCompleted?.(part, effect).catch(onError);
  };
  return { addParts, exclusive, parentFor, parsePart, watchers, observed, afterPart };
}
