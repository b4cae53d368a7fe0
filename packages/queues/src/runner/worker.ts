import { hostname } from 'node:os';
import {
  type Keyspace,
  keyspaceFor,
  type QueueName,
  queueEvictionWarning,
  type RedisClient,
} from '@nself-tv/redis-keys';
import { type Job, UnrecoverableError, WaitingChildrenError, WaitingError, Worker } from 'bullmq';
import { type QueueOverrides, type QueueSettings, resolveQueueSettings } from '../catalog.js';
import { QueueError } from '../errors.js';
import { createProducer, type Producer } from '../producer.js';
import { type JobResult, type Payload, parsePayload, parseResult } from '../schemas/registry.js';
import type { JobContext } from './context.js';
import { JobRun, type RunHost } from './job-run.js';
import type { RunObserver } from './observers.js';
import { type AnyPartProcessor, PART_JOB_NAME, type PartJobData, payloadOf, savedParts } from './parts.js';
import { createPartsHost } from './parts-host.js';
import {
  failureCode,
  isFinalFailure,
  QUEUE_ERROR_FINALITY,
  type RetryPolicy,
  UNCODED_FAILURE,
} from './retry-policy.js';
import type { WorkerEvent, WorkerEventListener } from './worker-events.js';

/** Does one job of queue `Q`. Throw coded errors; the worker's `retryPolicy` decides which are final. */
export type QueueProcessor<Q extends QueueName> = (payload: Payload<Q>, context: JobContext) => Promise<JobResult<Q>>;

/** Options of {@link createQueueWorker}. */
export interface QueueWorkerOptions {
  /** A worker connection (`createWorkerConnection`). Not closed by the worker. */
  connection: RedisClient;
  /** @default keyspaceFor(connection): the spec's keys, or the cluster layout on a cluster */
  keyspace?: Keyspace;
  /**
   * Concurrency, timeout and lock overrides (validated). Attempts and backoff are job options:
   * set them on the producer. @default catalog values
   */
  overrides?: QueueOverrides;
  /** How long {@link QueueWorker.close} lets active jobs run before aborting them back to wait. @default 30000 */
  shutdownDeadlineMs?: number;
  /**
   * Which failure codes are final: the tables of every package whose errors the processor may
   * throw, composed by the app. A code it does not list is retried. @default QUEUE_ERROR_FINALITY
   */
  retryPolicy?: RetryPolicy;
  /** Receives started/progress/completed/failed/… events. @default none */
  onEvent?: WorkerEventListener;
  /** Shortest gap between two progress writes of one job, in ms. @default 250 */
  progressIntervalMs?: number;
  /**
   * Rewrites a failure's message and stack before they are stored in the job,
   * emitted or written to the ingest: status readers see the job's failure
   * reason, so server paths (the media root, temp folders) are taken out here.
   * @default none
   */
  redact?: (text: string) => string;
  /**
   * The producer a job's parts are added through (not closed by the worker).
   * @default one on `connection` with the catalog's job options
   */
  producer?: Producer;
  /**
   * What follows the runs besides `onEvent`: each is offered every run and keeps hooks for the
   * runs it cares about (an ingest's stages are one observer, `ingestObserver`). @default none
   */
  observers?: readonly RunObserver[];
  /**
   * Runs the parts of this queue's jobs (see {@link JobContext.runParts}). A queue whose
   * processor splits its jobs needs it on every worker. @default none (a part job fails)
   */
  parts?: AnyPartProcessor | undefined;
}

/** A running worker for one queue. */
export interface QueueWorker {
  readonly queue: QueueName;
  readonly settings: QueueSettings;
  /** The BullMQ worker underneath. */
  readonly worker: Worker;
  /** Cancels an active job of this worker: its signal fires and it fails without retry. */
  cancel(jobId: string, reason?: string): boolean;
  /**
   * Stops taking jobs, lets active ones finish for `deadlineMs`, then aborts
   * them and puts them back in wait (their attempt is not counted). Never
   * loses a job and always resolves.
   */
  close(deadlineMs?: number): Promise<void>;
}

class ShutdownAbort extends Error {
  constructor() {
    super('worker shutting down');
  }
}

/**
 * Runs `processor` for every job of `queue`, with the catalog's concurrency,
 * payload and result validation, a per-job timeout, cancellation, progress,
 * parts, observers and graceful shutdown.
 *
 * An invalid payload fails at once without retries (`INVALID_PAYLOAD`) and the
 * worker carries on.
 */
export function createQueueWorker<Q extends QueueName>(
  queue: Q,
  processor: QueueProcessor<Q>,
  options: QueueWorkerOptions,
): QueueWorker {
  const keyspace = options.keyspace ?? keyspaceFor(options.connection);
  const settings = resolveQueueSettings(queue, options.overrides);
  const deadlineDefault = options.shutdownDeadlineMs ?? 30_000;
  const listener = options.onEvent;
  const emit = listener
    ? (event: WorkerEvent) => {
        try {
          listener(event);
        } catch {
          // A listener's failure must not affect jobs.
        }
      }
    : null;
  const redact = options.redact ?? ((text: string) => text);
  const retryPolicy = options.retryPolicy ?? QUEUE_ERROR_FINALITY;
  const observers = options.observers ?? [];
  const onError = (error: Error) => emit?.({ type: 'error', queue, error });
  let producer: Producer | undefined;
  const ensureProducer = () => {
    producer ??= options.producer ?? createProducer({ connection: options.connection, keyspace });
    return producer;
  };
  const location = keyspace.queue(queue);
  const partsHost = createPartsHost({
    queue,
    keyspace,
    connection: options.connection,
    producer: ensureProducer,
    parts: options.parts,
    observers,
    onError,
  });
  const { addParts, exclusive, parentFor, parsePart, watchers, observed, afterPart } = partsHost;
  const host: RunHost = { queue, progressIntervalMs: options.progressIntervalMs ?? 250, emit, addParts, exclusive };
  const active = new Map<string, JobRun>();
  // One timer checks every active job's deadline; a timer per job costs more than the work of a small job.
  const tick = Math.min(1000, Math.max(50, Math.floor(settings.timeoutMs / 10)));
  const deadlines = setInterval(() => {
    const now = Date.now();
    for (const [jobId, run] of active) {
      if (now >= run.deadline) {
        run.abort(new QueueError('JOB_TIMEOUT', `${queue} job ${jobId} timed out after ${settings.timeoutMs} ms`));
      }
    }
  }, tick);
  deadlines.unref();
  // Two parameters on purpose: BullMQ then skips its own per-job AbortController;
  // cancellation goes through `active` instead.
  const processJob = async (job: Job, token?: string): Promise<JobResult<Q>> => {
    const isPart = job.name === PART_JOB_NAME;
    let payload: Payload<Q>;
    try {
      payload = isPart ? parsePart(job.data) : parsePayload(queue, payloadOf(job.data));
    } catch (error) {
      const reason = redact((error as Error).message);
      const jobId = job.id as string;
      emit?.({
        type: 'failed',
        queue,
        jobId,
        attempt: job.attemptsMade + 1,
        final: true,
        reason,
        code: 'INVALID_PAYLOAD',
        durationMs: 0,
      });
      const raw = isPart ? (job.data as Partial<PartJobData> | null)?.part : payloadOf(job.data);
      const failure = { reason, code: 'INVALID_PAYLOAD', final: true };
      for (const hooks of watchers(observed(job, job.attemptsMade + 1, raw, isPart))) {
        await hooks.failed?.(failure).catch(onError);
      }
      throw new UnrecoverableError(reason);
    }

    const run = new JobRun(host, job, settings.timeoutMs, token);
    const { jobId, attempt } = run;
    active.set(jobId, run);
    emit?.({ type: 'started', queue, jobId, attempt });
    try {
      // Most jobs have no observer: they build no view of themselves.
      if (observers.length) run.hooks = watchers(observed(job, attempt, payload, isPart));
      if (run.hooks.length) await run.started();
      // Only a job that saved parts has results to load: a plain job takes no extra turn here.
      const saved = isPart ? undefined : savedParts(job.data);
      if (saved) await run.resume(saved);
      // A job resumed after its parts is past them: observers hear it is running again.
      if (run.resumed && run.hooks.length) await run.progressed(0);
      // A run an observer stopped does not start its work at all.
      if (run.reason !== undefined) throw run.reason;
      const work = isPart
        ? (options.parts as AnyPartProcessor).run(
            payload as never,
            run,
            parentFor((job.data as PartJobData).parent.jobId),
          )
        : processor(payload, run);
      const raw = await run.settle(work);
      if (run.reason !== undefined) throw run.reason;
      const result = (isPart ? raw : parseResult(queue, raw)) as JobResult<Q>;
      if (run.hooks.length) await run.completed(result);
      const durationMs = Date.now() - run.startedAt;
      emit?.({ type: 'completed', queue, jobId, attempt, durationMs, ...(isPart ? { part: true } : {}) });
      return result;
    } catch (caught) {
      const error = run.reason ?? caught;
      if (error instanceof WaitingChildrenError) {
        // Suspended until its parts complete (BullMQ's waiting-children), not failed.
        emit?.({ type: 'suspended', queue, jobId, durationMs: Date.now() - run.startedAt });
        throw error;
      }
      if (error instanceof ShutdownAbort) {
        await job.moveToWait(token);
        emit?.({ type: 'requeued', queue, jobId, reason: error.message });
        throw new WaitingError();
      }
      const code = failureCode(error);
      const unrecoverable = isFinalFailure(error, retryPolicy);
      const final = unrecoverable || attempt >= (job.opts.attempts ?? 1);
      const reason = redact(error instanceof Error ? error.message : String(error));
      if (error instanceof Error) {
        // BullMQ stores the message as the failure reason and the stack in the job hash.
        error.message = reason;
        error.stack = error.stack === undefined ? undefined : redact(error.stack);
      }
      emit?.({ type: 'failed', queue, jobId, attempt, final, reason, code, durationMs: Date.now() - run.startedAt });
      if (run.hooks.length) await run.failed({ reason, final, code: code ?? UNCODED_FAILURE }, onError);
      if (unrecoverable && !(error instanceof UnrecoverableError)) throw new UnrecoverableError(reason);
      throw error;
    } finally {
      active.delete(jobId);
    }
  };

  const worker = new Worker(location.name, processJob, {
    connection: options.connection,
    prefix: location.prefix,
    concurrency: settings.concurrency,
    // Recorded on every job it runs (`processedBy`): which host and process did which chunk.
    name: `${hostname()}:${process.pid}`,
    lockDuration: settings.lockDurationMs,
    stalledInterval: settings.stalledIntervalMs,
  });
  worker.on('error', (error) => emit?.({ type: 'error', queue, error }));
  worker.on('stalled', (jobId) => emit?.({ type: 'stalled', queue, jobId }));
  // After BullMQ has recorded a part as completed, so its parent's results include it.
  worker.on('completed', (job, result) => {
    if (job.name !== PART_JOB_NAME) return;
    void afterPart(job, result).catch((error) => onError(error as Error));
  });
  queueEvictionWarning(options.connection)
    .then((message) => message && emit?.({ type: 'warning', queue, message }))
    .catch(() => undefined);

  let closing: Promise<void> | undefined;
  return {
    queue,
    settings,
    worker,
    cancel(jobId, reason) {
      const run = active.get(jobId);
      if (!run) return false;
      run.abort(new QueueError('JOB_CANCELLED', `${queue} job ${jobId} cancelled${reason ? `: ${reason}` : ''}`));
      return true;
    },
    close(deadlineMs = deadlineDefault) {
      closing ??= (async () => {
        const graceful = worker.close();
        const abortTimer = setTimeout(() => {
          for (const run of active.values()) run.abort(new ShutdownAbort());
        }, deadlineMs);
        // A processor that ignores its signal cannot hold shutdown forever; its job is left to stalled recovery.
        const forceTimer = setTimeout(() => void worker.close(true), deadlineMs + 5_000);
        try {
          await graceful;
        } finally {
          clearTimeout(abortTimer);
          clearTimeout(forceTimer);
          clearInterval(deadlines);
          // Only the producer this worker made; a given one belongs to the caller.
          if (producer !== options.producer) await producer?.close();
        }
      })();
      return closing;
    },
  };
}
