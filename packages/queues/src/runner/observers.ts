import type { QueueName } from '@nself-tv/redis-keys';

/**
 * Observers: how a queue worker tells what else cares about a run (an ingest's stages, events,
 * traces) what happened, without knowing any of them. The worker offers one run to each observer
 * as it begins; an observer that cares answers with hooks for that run, so a job nobody watches
 * costs one call per observer. A hook that answers `'stop'` aborts the run (`JOB_CANCELLED`, not
 * retried). The started, progressed and completed hooks are awaited and their failures fail the
 * attempt, so an observer that writes state never misses a step; `failed` and `partCompleted` are
 * awaited and their failures only reported (as the worker's `error` event).
 */

/** What an observer may answer to a started or progressed run. */
export type RunAnswer = 'stop' | undefined;

/** One attempt of one job, as observers see it. */
export interface ObservedRun {
  readonly queue: QueueName;
  readonly jobId: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /**
   * The job's payload as its schema parsed it; the raw data when it did not parse (the run then
   * only fails). For a part, the part's own data.
   */
  readonly data: unknown;
  /** Set when the run is a part of another job of the same queue. */
  readonly parent: PartParentInfo | undefined;
}

/** The job a part belongs to. */
export interface PartParentInfo {
  readonly jobId: string;
  /** The parent's payload, read from Redis on first call and kept. `undefined` when it is gone. */
  payload(): Promise<unknown>;
}

/** Why a run failed. */
export interface RunFailure {
  /** The failure's message, with server paths taken out. */
  readonly reason: string;
  /** Its stable code (`UNCODED_FAILURE` when it carried none). */
  readonly code: string;
  /** No attempt is left: the job has failed for good. */
  readonly final: boolean;
}

/** The hooks an observer keeps for one run. Every hook is optional. */
export interface RunHooks {
  /** The run begins, before the processor is called (a resumed job: before it runs again). */
  started?(): Promise<RunAnswer>;
  /**
   * The run reported progress (0–100; `phase` as the processor named it), or suspended itself
   * for its parts (`0`, no phase) or came back after them (`0`, no phase).
   */
  progressed?(percent: number, phase: string | undefined): Promise<RunAnswer>;
  /** The run's result was validated; the job completes once this resolves. */
  completed?(result: unknown): Promise<void>;
  /** The run failed (final or not). */
  failed?(failure: RunFailure): Promise<void>;
}

/** A part that completed, on the worker that ran it, after BullMQ recorded it. */
export interface CompletedPart {
  readonly queue: QueueName;
  readonly jobId: string;
  readonly parent: PartParentInfo;
  /** How many of the parent's parts have completed so far, and how many it has. */
  progress(): Promise<{ done: number; total: number }>;
}

/** Something that follows the runs of a queue worker. */
export interface RunObserver {
  /** A run begins: the hooks for it, or `undefined` to leave it alone. */
  watch?(run: ObservedRun): RunHooks | undefined;
  /**
   * A part completed. `effect` is what the part processor's `completed` answered, passed
   * through as it is: the runner does not read it.
   */
  partCompleted?(part: CompletedPart, effect: unknown): Promise<void>;
}
