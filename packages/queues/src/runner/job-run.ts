import type { QueueName } from '@nself-tv/redis-keys';
import { type Job, WaitingChildrenError } from 'bullmq';
import { QueueError } from '../errors.js';
import type { JobContext, JobPart, ResumedRun } from './context.js';
import type { RunAnswer, RunFailure, RunHooks } from './observers.js';
import { PARTS_FIELD, partResults, type SavedParts } from './parts.js';
import type { WorkerEvent } from './worker-events.js';

/** The hooks of a run nobody watches: one shared empty list, not one per job. */
const NO_HOOKS: readonly RunHooks[] = Object.freeze([]);

/** Longest wait for an aborted processor to unwind before its job is settled anyway. */
const ABORT_GRACE_MS = 5000;

/** What all runs of one worker share. */
export interface RunHost {
  readonly queue: QueueName;
  readonly progressIntervalMs: number;
  /** Null when nobody listens, so runs skip building events. */
  readonly emit: ((event: WorkerEvent) => void) | null;
  /** Adds a job's parts as its children (idempotent by job id). */
  addParts(job: Job, parts: readonly JobPart[]): Promise<void>;
  /** Runs `fn` under the lock of job `jobId` and its parts. */
  exclusive<T>(jobId: string, fn: () => Promise<T>): Promise<T | undefined>;
}

/**
 * One attempt of one job: its context, abort state and deadline. Methods live
 * on the prototype and the AbortController is made only when the processor
 * reads `signal`, because a few closures per job are a measurable share of a
 * small job's cost.
 */
export class JobRun implements JobContext {
  readonly queue: QueueName;
  readonly jobId: string;
  readonly attempt: number;
  readonly startedAt = Date.now();
  readonly deadline: number;
  /** Why the run was aborted, once it has been. */
  reason: unknown = undefined;
  /** The hooks of the observers that watch this run; empty for most jobs. */
  hooks: readonly RunHooks[] = NO_HOOKS;
  resumed: ResumedRun | undefined = undefined;
  private controller: AbortController | undefined = undefined;
  private rejectWait: ((reason: unknown) => void) | undefined = undefined;
  private work: Promise<unknown> | undefined = undefined;
  private lastProgressAt = 0;
  private lastPhase: string | undefined = undefined;

  constructor(
    private readonly host: RunHost,
    readonly job: Job,
    timeoutMs: number,
    private readonly token: string | undefined,
  ) {
    this.queue = host.queue;
    this.jobId = job.id as string;
    this.attempt = job.attemptsMade + 1;
    this.deadline = this.startedAt + timeoutMs;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.controller?.abort(reason);
    const reject = this.rejectWait;
    if (!reject) return;
    // Give the processor a moment to unwind (kill its child process, remove its
    // temp files) before the job is settled, but never wait on it for long.
    const unwound = this.work?.then(
      () => undefined,
      () => undefined,
    );
    const grace = new Promise((r) => setTimeout(r, ABORT_GRACE_MS).unref());
    void Promise.race([unwound, grace]).then(() => reject(reason));
  }

  /**
   * Resolves with `work`; when the run is aborted, rejects with the reason once
   * the processor has unwound or after a short grace, whichever comes first.
   */
  settle<T>(work: Promise<T>): Promise<T> {
    if (this.reason !== undefined) {
      // Aborted before it began (its ingest was cancelled): the work's own failure is not news.
      work.catch(() => undefined);
      return Promise.reject(this.reason);
    }
    this.work = work;
    return new Promise<T>((resolve, reject) => {
      this.rejectWait = reject;
      work.then(resolve, reject);
    });
  }

  /** Aborts the run when an observer answered `stop` (its ingest was cancelled, for example). */
  private stopIf(answer: RunAnswer): void {
    if (answer === 'stop') {
      this.abort(new QueueError('JOB_CANCELLED', `${this.queue} job ${this.jobId} cancelled: an observer stopped it`));
    }
  }

  /** Tells the observers the run has begun. */
  async started(): Promise<void> {
    for (const h of this.hooks) if (h.started) this.stopIf(await h.started());
  }

  /** Tells the observers of progress (the processor's, or 0 around a suspension for parts). */
  async progressed(percent: number, phase?: string): Promise<void> {
    for (const h of this.hooks) if (h.progressed) this.stopIf(await h.progressed(percent, phase));
  }

  /** Tells the observers the result, before the job completes. */
  async completed(result: unknown): Promise<void> {
    for (const h of this.hooks) await h.completed?.(result);
  }

  /** Tells the observers of a failure; theirs are reported to `onError`, never thrown. */
  async failed(failure: RunFailure, onError: (error: Error) => void): Promise<void> {
    for (const h of this.hooks) await h.failed?.(failure).catch(onError);
  }

  async progress(percent: number, phase?: string): Promise<void> {
    const now = Date.now();
    const p = Math.max(0, Math.min(100, Math.round(percent * 10) / 10));
    if (now - this.lastProgressAt < this.host.progressIntervalMs && phase === this.lastPhase && p < 100) return;
    this.lastProgressAt = now;
    this.lastPhase = phase;
    this.host.emit?.({ type: 'progress', queue: this.queue, jobId: this.jobId, percent: p, phase });
    await this.job.updateProgress(p);
    if (this.hooks.length) await this.progressed(p, phase);
  }

  async log(line: string): Promise<void> {
    await this.job.log(line);
  }

  exclusive<T>(fn: () => Promise<T>): Promise<T | undefined> {
    return this.host.exclusive(this.jobId, fn);
  }

  /** Loads the parts' results when the job was suspended for them. */
  async resume(saved: SavedParts): Promise<void> {
    this.resumed = { plan: saved.plan, results: await partResults(this.job, saved) };
  }

  async runParts(parts: readonly JobPart[], plan: unknown): Promise<unknown[]> {
    if (this.token === undefined) throw new TypeError('runParts needs a worker lock token');
    const saved: SavedParts = { plan, keys: parts.map((p) => p.key) };
    const { [PARTS_FIELD]: _old, ...payload } = this.job.data as Record<string, unknown>;
    await this.job.updateData({ ...payload, [PARTS_FIELD]: saved });
    await this.host.addParts(this.job, parts);
    // The job's work is now its parts': observers hear it is running while it waits.
    if (this.hooks.length) await this.progressed(0);
    if (await this.job.moveToWaitingChildren(this.token)) throw new WaitingChildrenError();
    return partResults(this.job, saved);
  }
}
