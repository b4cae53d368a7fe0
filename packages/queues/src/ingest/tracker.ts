import type { QueueName } from '@nself-tv/redis-keys';
import type { Producer } from '../producer.js';
import type { OutputLocation, StorageLocation } from '../schemas/common.js';
import type { JobResult, Payload, PayloadInput } from '../schemas/registry.js';
import type { IngestService } from './ingest-service.js';
import {
  FAN_OUT,
  INGEST_SPRITE_INTERVAL_SECONDS,
  INGEST_TRICKPLAY_INTERVAL_SECONDS,
  type IngestStageName,
  STAGE_OF_QUEUE,
} from './stages.js';
import type { IngestState } from './state.js';

/** Reports one job's life to the ingest it belongs to. */
export interface IngestJobTracker {
  /** The job started; returns the state so a cancelled ingest can stop the job. */
  started(): Promise<IngestState | undefined>;
  /** Progress within the job; `phase: 'probe'` counts towards the probe stage of a transcode job. */
  progress(percent: number, phase?: string): Promise<IngestState | undefined>;
  /** The job succeeded; after transcode this enqueues the parallel stages. */
  completed(result: unknown): Promise<void>;
  /** The job failed; only a final failure ends the stage. */
  failed(reason: string, final: boolean): Promise<void>;
}

function under(output: OutputLocation, folder: string): OutputLocation {
  const base = output.prefix === '' || output.prefix.endsWith('/') ? output.prefix : `${output.prefix}/`;
  return { bucket: output.bucket, prefix: `${base}${folder}/` };
}

/** Payload of each parallel stage, built from the transcode job's payload and result. */
function fanOutPayload(
  queue: QueueName,
  t: Payload<'video:transcode'>,
  result: JobResult<'video:transcode'>,
  thumbnails: { trickplayIntervalSeconds: number; spriteIntervalSeconds: number },
): PayloadInput<QueueName> | undefined {
  const common = { mediaId: t.mediaId, familyId: t.familyId, ingestId: t.ingestId };
  switch (queue) {
    case 'video:trickplay':
      return {
        ...common,
        source: t.source,
        output: under(t.output, 'trickplay'),
        intervalSeconds: thumbnails.trickplayIntervalSeconds,
      };
    case 'video:subtitle':
      return {
        ...common,
        source: t.source,
        output: under(t.output, 'subtitles'),
        masterPlaylist: { bucket: t.output.bucket, key: result.masterPlaylistKey },
      };
    case 'image:poster': {
      if (result.stillFrameKey === undefined) return undefined;
      const still: StorageLocation = { bucket: t.output.bucket, key: result.stillFrameKey };
      return { ...common, source: still, output: under(t.output, 'posters') };
    }
    case 'image:sprite': {
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
      throw new TypeError(`${queue} is not an ingest stage queue`);
  }
}

/**
 * A tracker for a job that carries an `ingestId`, or `undefined` for jobs
 * outside an ingest. Stage updates are atomic Lua updates of the ingest state,
 * so parallel stages on different workers never overwrite each other.
 */
export function trackIngestJob(
  ingest: IngestService,
  producer: Producer,
  queue: QueueName,
  payload: Record<string, unknown>,
  jobId: string,
): IngestJobTracker | undefined {
  const ingestId = typeof payload.ingestId === 'string' ? payload.ingestId : undefined;
  const own = STAGE_OF_QUEUE[queue];
  if (!ingestId || !own) return undefined;
  const isTranscode = queue === 'video:transcode';
  let current: IngestStageName = isTranscode ? 'probe' : own;

  const enterMain = async () => {
    if (current === own) return undefined;
    await ingest.updateStage(ingestId, 'probe', { status: 'completed' });
    current = own;
    return ingest.updateStage(ingestId, own, { status: 'running', jobId });
  };

  return {
    started: () => ingest.updateStage(ingestId, current, { status: 'running', jobId }),

    async progress(percent, phase) {
      if (isTranscode && phase !== 'probe') await enterMain();
      return ingest.updateStage(ingestId, current, { progress: percent });
    },

    async completed(result) {
      await enterMain();
      const state = await ingest.updateStage(ingestId, own, { status: 'completed', result });
      if (!isTranscode || state.status !== 'running') return;
      const t = payload as Payload<'video:transcode'>;
      const r = result as JobResult<'video:transcode'>;
      const thumbnails = state.thumbnails ?? {
        trickplayIntervalSeconds: INGEST_TRICKPLAY_INTERVAL_SECONDS,
        spriteIntervalSeconds: INGEST_SPRITE_INTERVAL_SECONDS,
      };
      await Promise.all(
        FAN_OUT.map(async ({ stage, queue: target }) => {
          const stageJobId = ingest.jobIdFor(ingestId, stage);
          // Trickplay made from the transcode's own decode: the stage is done already.
          if (target === 'video:trickplay' && r.trickplay) {
            await ingest.updateStage(ingestId, stage, { status: 'completed', result: r.trickplay });
            return;
          }
          const stagePayload = fanOutPayload(target, t, r, thumbnails);
          if (!stagePayload) {
            await ingest.updateStage(ingestId, stage, { status: 'skipped', error: 'the video has no frame to use' });
            return;
          }
          try {
            await producer.enqueue(target, stagePayload, { jobId: stageJobId });
            await ingest.updateStage(ingestId, stage, { jobId: stageJobId });
          } catch (error) {
            await ingest.updateStage(ingestId, stage, {
              status: 'failed',
              error: `could not enqueue: ${(error as Error).message}`,
            });
          }
        }),
      );
    },

    async failed(reason, final) {
      if (!final) return;
      await ingest.updateStage(ingestId, current, { status: 'failed', error: reason });
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
    async failed(reason, final) {
      if (!final || !job) return;
      await job.progress(0);
      await job.failed(`a part failed: ${reason}`, true);
    },
  };
}
