import type { QueueName } from '@nself-tv/redis-keys';

/** One part of a job. */
export interface JobPart {
  /** Unique within the job, a safe id: the part's job id is `<jobId>-<key>`. */
  readonly key: string;
  /** What the part processor gets (JSON). */
  readonly data: unknown;
  /**
   * The part's place among the job's parts, 0 first: its BullMQ priority is the job's plus
   * one plus this (see `partPriority`), so a job's parts follow it in order. @default its index
   */
  readonly order?: number | undefined;
}

/** The run of a job after its parts have completed. */
export interface ResumedRun {
  /** The plan given to `runParts`. */
  readonly plan: unknown;
  /** The parts' results, in the order they were given. */
  readonly results: unknown[];
}

/** What a processor gets besides its payload. */
export interface JobContext {
  readonly queue: QueueName;
  readonly jobId: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /**
   * Fired on job timeout, cancellation and worker shutdown. Pass it to child
   * processes (`spawn(..., { signal })`) so they are killed with the job.
   */
  readonly signal: AbortSignal;
  /** Reports progress 0–100; `phase` (for example `probe`) is passed to events and the ingest. */
  progress(percent: number, phase?: string): Promise<void>;
  /** Appends a line to the job's BullMQ log. */
  log(line: string): Promise<void>;
  /**
   * On the run after this job's parts have all completed: the plan it saved and the parts'
   * results. `undefined` on a job's first run.
   */
  readonly resumed: ResumedRun | undefined;
  /**
   * Splits the job into `parts`, child jobs of this queue run by the worker's part processor on
   * every worker host, and suspends the job until they have all completed (BullMQ's
   * `waiting-children`): the promise then never settles, the run ends and the processor runs
   * again later with {@link resumed}. `plan` (JSON) is kept with the job for that run. Parts
   * that exist already (a retried run) are not added twice; when every part has completed
   * already, resolves at once with their results.
   */
  runParts(parts: readonly JobPart[], plan: unknown): Promise<unknown[]>;
  /**
   * Runs `fn` while no other run of this job or of its parts runs its own (a lock in Redis
   * shared by every worker host). Resolves `undefined` without running `fn` when the lock
   * could not be had within 30 s.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T | undefined>;
}
