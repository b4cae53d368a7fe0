import type { Job } from 'bullmq';
import type { JobContext } from './context.js';

/**
 * Parts: a job that splits its work into child jobs of its own queue, on BullMQ's own
 * parent/child mechanism. The job adds its parts with itself as their parent and moves to
 * `waiting-children`; every worker of the queue takes parts as it has room; when the last part
 * has completed BullMQ moves the job back to wait and its processor runs again, this time with
 * the parts' results. A part is retried alone; a part's final failure fails the job.
 */

/** Priorities one job and its parts span: a job's parts take the priorities just after it. */
export const PRIORITY_STRIDE = 4096;
/** BullMQ's lowest priority. */
export const MAX_PRIORITY = 2_097_152;

/** Priority of a job's part `order` (0 first): right after its job, in order; after priority 1 for a job without one. */
export function partPriority(jobPriority: number | undefined, order: number): number {
  const base = jobPriority && jobPriority > 0 ? jobPriority : 1;
  return Math.min(MAX_PRIORITY, base + 1 + Math.min(Math.max(0, Math.floor(order)), PRIORITY_STRIDE - 2));
}

/** The job name of a part (a job's own jobs are named after the queue). */
export const PART_JOB_NAME = 'part';

/** Where a suspended job keeps its plan and the keys of its parts, next to its payload. */
export const PARTS_FIELD = '_parts';

/** What a suspended job keeps in {@link PARTS_FIELD}. */
export interface SavedParts {
  plan: unknown;
  keys: string[];
}

/** The data of a part's job. */
export interface PartJobData {
  part: unknown;
  /** The job this part belongs to. (Parts added before observers also carry an `ingestId`, unread.) */
  parent: { jobId: string };
}

/** The job a part belongs to. */
export interface PartParent {
  readonly jobId: string;
  /**
   * Runs `fn` while no other part of this job runs its own `fn` (a lock in Redis, shared by
   * every worker host), for work that must not interleave, such as publishing a growing
   * playlist. Resolves `undefined` without running `fn` when the lock could not be had in time.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T | undefined>;
  /** The results of this job's parts that have completed so far, by part key. */
  completedParts(): Promise<Map<string, unknown>>;
  /** The plan the job saved with its parts (`runParts`), or `undefined` when it is gone. */
  plan(): Promise<unknown>;
}

/** How a queue worker runs the parts of its queue's jobs. */
export interface PartProcessor<D = unknown, R = unknown> {
  /** Validates a part's data as read from Redis; throw a coded error for data it cannot run. */
  parse(data: unknown): D;
  /** Does one part; its result (JSON) goes to the parent. */
  run(data: D, context: JobContext, parent: PartParent): Promise<R>;
  /**
   * Called on the worker that ran a part once BullMQ has recorded it as completed, so the
   * parent's {@link PartParent.completedParts} includes it. Failures are reported as worker
   * `error` events and change nothing else.
   */
  completed?(data: D, result: R, parent: PartParent): Promise<PartEffect | undefined>;
}

/**
 * What a part's `completed` hook did, for the observers (`RunObserver.partCompleted` gets it as
 * it is; the runner never reads it). The ingest observer reads `playable`.
 */
export interface PartEffect {
  /** The job's output can be played from now on (its growing playlists were first published). */
  playable?: boolean;
}

/** The parts' results of a resumed job, in the order of `keys`. */
export async function partResults(job: Job, saved: SavedParts): Promise<unknown[]> {
  const byKey = await resultsByKey(job);
  return saved.keys.map((key) => byKey.get(key));
}

/** The completed parts' results of a parent job, by part key. */
export async function resultsByKey(job: Job): Promise<Map<string, unknown>> {
  const values = await job.getChildrenValues();
  const prefix = `${job.id}-`;
  const out = new Map<string, unknown>();
  for (const [jobKey, value] of Object.entries(values)) {
    // `<prefix>:<queue name>:<job id>`; the job id is the last field (ids have no ':').
    const id = jobKey.slice(jobKey.lastIndexOf(':') + 1);
    if (id.startsWith(prefix)) out.set(id.slice(prefix.length), value);
  }
  return out;
}

/** The saved parts of a job's data, when it has been suspended for them. */
export function savedParts(data: unknown): SavedParts | undefined {
  const saved = (data as Record<string, unknown> | null)?.[PARTS_FIELD] as SavedParts | undefined;
  if (!saved || typeof saved !== 'object' || !Array.isArray(saved.keys)) return undefined;
  return saved;
}

/** The payload of a job without the parts bookkeeping. */
export function payloadOf(data: unknown): unknown {
  if (!data || typeof data !== 'object' || !(PARTS_FIELD in data)) return data;
  const { [PARTS_FIELD]: _saved, ...payload } = data as Record<string, unknown>;
  return payload;
}

/** A part processor as a queue worker takes it: `parse` is where its data gets its type. */
export type AnyPartProcessor = PartProcessor<never, unknown>;

/** Types a part processor for a queue worker's `parts` (its data is typed by its own `parse`). */
export function partProcessor<D, R>(processor: PartProcessor<D, R>): AnyPartProcessor {
  return processor as unknown as AnyPartProcessor;
}
