import type { QueueName } from '@nself-tv/redis-keys';
import { itemFolder } from '@nself-tv/storage';
import type { Producer } from '../producer.js';
import { failureCode, UNCODED_FAILURE } from '../runner/retry-policy.js';
import type { JobResult, Payload } from '../schemas/registry.js';
import type { IngestService } from './ingest-service.js';
import {
  INGEST_SPRITE_INTERVAL_SECONDS,
  INGEST_TRICKPLAY_INTERVAL_SECONDS,
  ingestJobOf,
  type JobStageName,
  queueOfStage,
  stageSpec,
  stagesAfter,
} from './pipeline.js';
import type { IngestState } from './state.js';

/** Reports one job's life to the ingest it belongs to. */
export interface IngestJobTracker {
  /** The job started; returns the state so a cancelled ingest can stop the job. */
  started(): Promise<IngestState | undefined>;
  /** Progress within the job; `phase` names the stage it counts towards (`probe` in a transcode job), none the job's last. */
  progress(percent: number, phase?: string): Promise<IngestState | undefined>;
  /** The job succeeded; after transcode this enqueues the parallel stages. */
  completed(result: unknown): Promise<void>;
  /** The job failed with the failure's stable code; only a final failure ends the stage. */
  failed(reason: string, final: boolean, code: string): Promise<void>;
}

type ThumbnailIntervals = NonNullable<IngestState['thumbnails']>;

/**
 * A tracker for a job that carries an `ingestId`, or `undefined` for jobs outside an ingest. The
 * job drives the stages the pipeline runs on its queue, in order (a progress report names its
 * phase; none means the last), and when it completes enqueues the job stages that wait for it.
 * Stage updates are atomic Lua updates of the ingest state, so parallel stages on different
 * workers never overwrite each other.
 */
export function trackIngestJob(
  ingest: IngestService,
  producer: Producer,
  queue: QueueName,
  payload: Record<string, unknown>,
  jobId: string,
): IngestJobTracker | undefined {
  const ingestId = typeof payload.ingestId === 'string' ? payload.ingestId : undefined;
  const job = ingestJobOf(queue);
  if (!ingestId || !job) return undefined;
  let at = 0;
  const current = () => job.stages[at] as JobStageName;

  /** Moves on to a later phase: the phases before it are complete. */
  const enter = async (index: number) => {
    while (at < index) {
      await ingest.updateStage(ingestId, current(), { status: 'completed' });
      at += 1;
      await ingest.updateStage(ingestId, current(), { status: 'running', jobId });
    }
  };
  const phaseIndex = (phase: string | undefined) => {
    const i = job.stages.indexOf(phase as JobStageName);
    return i >= 0 ? i : job.stages.length - 1;
  };

  /** Starts one stage that waited for this job: done already by this job, or enqueued. */
  const startAfter = async (
    stage: JobStageName,
    result: Record<string, unknown>,
    state: IngestState,
    thumbnails: ThumbnailIntervals,
  ) => {
    const spec = stageSpec(stage);
    const { doneBy } = spec;
    if (doneBy && result[doneBy] !== undefined) {
      await ingest.updateStage(ingestId, stage, { status: 'completed', result: result[doneBy] });
      return;
    }
    if (!spec.payload || spec.folder === undefined) {
      throw new TypeError(`the ${stage} stage declares no payload or folder to start after the transcode`);
    }
    const transcode = payload as Payload<'video:transcode'>;
    const stagePayload = spec.payload({
      transcode,
      result: result as JobResult<'video:transcode'>,
      output: itemFolder(transcode.output, spec.folder),
      sidecars: state.subtitles ?? [],
      thumbnails,
    });
    if (!stagePayload) {
      await ingest.updateStage(ingestId, stage, { status: 'skipped', error: 'the video has no frame to use' });
      return;
    }
    const stageJobId = ingest.jobIdFor(ingestId, stage);
    try {
      await producer.enqueue(queueOfStage(stage) as QueueName, stagePayload, { jobId: stageJobId });
      await ingest.updateStage(ingestId, stage, { jobId: stageJobId });
    } catch (error) {
      await ingest.updateStage(ingestId, stage, {
        status: 'failed',
        error: `could not enqueue: ${(error as Error).message}`,
        code: failureCode(error) ?? UNCODED_FAILURE,
      });
    }
  };

  return {
    started: () => ingest.updateStage(ingestId, current(), { status: 'running', jobId }),

    async progress(percent, phase) {
      await enter(phaseIndex(phase));
      return ingest.updateStage(ingestId, current(), { progress: percent });
    },

    async completed(result) {
      await enter(job.stages.length - 1);
      const state = await ingest.updateStage(ingestId, job.main, { status: 'completed', result });
      if (state.status !== 'running') return;
      const ended = new Set(
        state.stages.filter((s) => s.status !== 'pending' && s.status !== 'running').map((s) => s.name),
      );
      const ready = stagesAfter(job.main).filter((stage) =>
        stageSpec(stage).after.every((a) => ended.has(a as JobStageName)),
      );
      const thumbnails = state.thumbnails ?? {
        trickplayIntervalSeconds: INGEST_TRICKPLAY_INTERVAL_SECONDS,
        spriteIntervalSeconds: INGEST_SPRITE_INTERVAL_SECONDS,
      };
      await Promise.all(
        ready.map((stage) => startAfter(stage, (result ?? {}) as Record<string, unknown>, state, thumbnails)),
      );
    },

    async failed(reason, final, code) {
      if (!final) return;
      await ingest.updateStage(ingestId, current(), { status: 'failed', error: reason, code });
    },
  };
}
