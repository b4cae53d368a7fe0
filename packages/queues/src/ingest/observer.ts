import type { Producer } from '../producer.js';
import type { CompletedPart, ObservedRun, RunAnswer, RunHooks, RunObserver } from '../runner/observers.js';
import type { PartEffect } from '../runner/parts.js';
import type { IngestService } from './ingest-service.js';
import type { IngestState } from './state.js';
import { type IngestJobTracker, trackIngestJob } from './tracker.js';

/** What the ingest observer reports to. */
export interface IngestObserverOptions {
  /** The ingest service stages are written through (for example one with `onCompleted`). */
  ingest: IngestService;
  /** The producer the stages after the transcode are enqueued through (the app's job options). */
  producer: Producer;
}

const ingestIdOf = (data: unknown): string | undefined => {
  const id = (data as { ingestId?: unknown } | null)?.ingestId;
  return typeof id === 'string' ? id : undefined;
};

const stopIfCancelled = (state: Pick<IngestState, 'status'> | undefined): RunAnswer =>
  state?.status === 'cancelled' ? 'stop' : undefined;

/**
 * The ingest as an observer of queue workers: a job that carries an `ingestId` drives its stages
 * (the pipeline's phases of its queue; when it completes, the stages waiting for it are enqueued),
 * a part of such a job stops when its ingest is cancelled and fails its job's stage when it fails
 * for good, a completed part moves its job's stage on and marks the ingest playable when the part
 * processor says so (`PartEffect.playable`). A run that is not an ingest's costs one field read.
 * The worker app plugs it in (`createQueueWorker`'s `observers`).
 */
export function ingestObserver({ ingest, producer }: IngestObserverOptions): RunObserver {
  const jobTracker = (run: Pick<ObservedRun, 'queue' | 'jobId'>, payload: unknown): IngestJobTracker | undefined =>
    payload && typeof payload === 'object'
      ? trackIngestJob(ingest, producer, run.queue, payload as Record<string, unknown>, run.jobId)
      : undefined;

  const watchJob = (run: ObservedRun): RunHooks | undefined => {
    const tracker = jobTracker(run, run.data);
    if (!tracker) return undefined;
    return {
      started: async () => stopIfCancelled(await tracker.started()),
      progressed: async (percent, phase) => stopIfCancelled(await tracker.progress(percent, phase)),
      completed: (result) => tracker.completed(result),
      failed: ({ reason, final, code }) => tracker.failed(reason, final, code),
    };
  };

  /** A part reads its ingest on start and on every progress report, so a cancelled ingest stops it. */
  const watchPart = (run: ObservedRun, parent: NonNullable<ObservedRun['parent']>): RunHooks => {
    const check = async (): Promise<RunAnswer> => {
      const ingestId = ingestIdOf(await parent.payload());
      return ingestId === undefined ? undefined : stopIfCancelled(await ingest.get(ingestId));
    };
    return {
      started: check,
      progressed: check,
      // BullMQ fails the job without running it again: the part's final failure is its stage's.
      async failed({ reason, final, code }) {
        if (!final) return;
        const payload = await parent.payload();
        const tracker = jobTracker({ queue: run.queue, jobId: parent.jobId }, payload);
        if (!tracker) return;
        await tracker.progress(0);
        await tracker.failed(`a part failed: ${reason}`, true, code);
      },
    };
  };

  return {
    watch(run) {
      if (run.parent) return watchPart(run, run.parent);
      return ingestIdOf(run.data) === undefined ? undefined : watchJob(run);
    },
    async partCompleted(part: CompletedPart, effect: unknown) {
      const payload = await part.parent.payload();
      const ingestId = ingestIdOf(payload);
      if (ingestId === undefined) return;
      const { done, total } = await part.progress();
      // The share of parts done; the job's own completion makes the stage 100.
      if (total > 0) {
        await jobTracker({ queue: part.queue, jobId: part.parent.jobId }, payload)?.progress(
          Math.min(99.9, (done / total) * 100),
        );
      }
      if ((effect as PartEffect | undefined)?.playable) await ingest.markPlayable(ingestId);
    },
  };
}
