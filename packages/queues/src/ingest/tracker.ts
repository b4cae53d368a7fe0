import type { QueueName } from '@nself-tv/redis-keys';
import type { Producer } from '../producer.js';
import { failureCode, UNCODED_FAILURE } from '../retry-policy.js';
import type { OutputLocation, StorageLocation } from '../schemas/common.js';
import type { JobResult, Payload, PayloadInput } from '../schemas/registry.js';
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

type ThumbnailIntervals = { trickplayIntervalSeconds: number; spriteIntervalSeconds: number };

function under(output: OutputLocation, folder: string): OutputLocation {
  const base = output.prefix === '' || output.prefix.endsWith('/') ? output.prefix : `${output.prefix}/`;
  return { bucket: output.bucket, prefix: `${base}${folder}/` };
}

/** Payload of each stage that waits for the transcode, built from the transcode job's payload and result. */
function fanOutPayload(
  stage: JobStageName,
  t: Payload<'video:transcode'>,
  result: JobResult<'video:transcode'>,
  state: Pick<IngestState, 'subtitles'>,
  thumbnails: ThumbnailIntervals,
): PayloadInput<QueueName> | undefined {
  const common = { mediaId: t.mediaId, familyId: t.familyId, ingestId: t.ingestId };
  switch (stage) {
    case 'trickplay':
      return {
        ...common,
        source: t.source,
        output: under(t.output, 'trickplay'),
        intervalSeconds: thumbnails.trickplayIntervalSeconds,
      };
    case 'subtitles':
      return {
        ...common,
        source: t.source,
        output: under(t.output, 'subtitles'),
        masterPlaylist: { bucket: t.output.bucket, key: result.masterPlaylistKey },
        ...(state.subtitles?.length ? { sidecars: state.subtitles } : {}),
      };
    case 'posters': {
      if (result.stillFrameKey === undefined) return undefined;
      const still: StorageLocation = { bucket: t.output.bucket, key: result.stillFrameKey };
      return { ...common, source: still, output: under(t.output, 'posters') };
    }
    case 'sprites': {
      const output = under(t.output, 'sprites');
      // Frames from the transcode's own decode: the sprite stage only tiles them.
      if (result.frames && result.frames.keys.length > 0) {
        const { intervalSeconds, keys } = result.frames;
        const images = keys.map((key, i) => ({ bucket: t.output.bucket, key, timestamp: i * intervalSeconds }));
        return { ...common, images, intervalSeconds, output };
      }
      return { ...common, video: t.source, intervalSeconds: thumbnails.spriteIntervalSeconds, output };
    }
    default:
      throw new TypeError(`no payload is declared for the ${stage} stage after the transcode`);
  }
}

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
    const { doneBy } = stageSpec(stage);
    if (doneBy && result[doneBy] !== undefined) {
      await ingest.updateStage(ingestId, stage, { status: 'completed', result: result[doneBy] });
      return;
    }
    const stagePayload = fanOutPayload(
      stage,
      payload as Payload<'video:transcode'>,
      result as JobResult<'video:transcode'>,
      state,
      thumbnails,
    );
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

/**
 * A tracker for a part of an ingest's job (a chunk of its transcode): the part reads the
 * ingest on start and on every progress report, so a cancelled ingest stops it (the job's
 * stage advances as its parts complete, reported by the worker to the job's tracker); a
 * part's final failure fails the job's stage, since BullMQ then fails the job without
 * running it again.
 */
export function trackIngestPart(
  ingest: IngestService,
  job: IngestJobTracker | undefined,
  ingestId: string,
): IngestJobTracker {
  return {
    started: () => ingest.get(ingestId),
    progress: () => ingest.get(ingestId),
    async completed() {},
    async failed(reason, final, code) {
      if (!final || !job) return;
      await job.progress(0);
      await job.failed(`a part failed: ${reason}`, true, code);
    },
  };
}
