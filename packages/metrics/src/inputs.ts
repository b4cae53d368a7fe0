/**
 * What the metrics read from the packages they measure, as shapes rather than imports: a queue
 * worker's, a cache's and a session store's events, and a queue's job counts. The events of
 * `@nself-tv/queues`, `@nself-tv/cache` and `@nself-tv/sessions` fit them as they are, so this
 * package depends on none of them (exporting queue metrics brings no S3 SDK, no cache).
 */

/** A queue's job counts, as `createJobInspector(connection).counts()` of `@nself-tv/queues` gives them. */
export interface QueueCountsInput {
  readonly queue: string;
  readonly waiting: number;
  readonly prioritized: number;
  readonly active: number;
  readonly delayed: number;
  readonly completed: number;
  readonly failed: number;
  /** Jobs waiting in a paused queue. */
  readonly paused: number;
  readonly isPaused: boolean;
}

/** Anything that counts the jobs of queues (a `JobInspector`). */
export interface QueueCountsSource {
  counts(): Promise<readonly QueueCountsInput[]>;
}

/** A queue worker's event (`onEvent` of `createQueueWorker`): the fields the job counters read. */
export interface WorkerEventInput {
  readonly type: string;
  readonly queue: string;
  /** On `completed` and `failed`. */
  readonly durationMs?: number;
  /** On `failed`: no attempt is left. */
  readonly final?: boolean;
  /** On `completed`: the job was a part of another. */
  readonly part?: boolean;
}

/** A cache's event (`onEvent` of `createCache`). */
export interface CacheEventInput {
  readonly type: string;
  readonly entry?: string | undefined;
  /** On `load`. */
  readonly durationMs?: number;
}

/** A session store's event (`onEvent` of `createSessionStore`). */
export interface SessionEventInput {
  readonly type: string;
  readonly result: string;
}
