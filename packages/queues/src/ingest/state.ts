import { MAX_ID_LENGTH } from '@nself-tv/redis-keys';
import { z } from 'zod';
import { outputLocation, safeId, storageLocation } from '../schemas/common.js';
import { RENDITION_NAMES, sidecarFile, thumbnailInterval } from '../schemas/video.js';
import {
  EXTERNAL_STAGES,
  INGEST_PIPELINE,
  INGEST_SPRITE_INTERVAL_SECONDS,
  INGEST_STAGE_NAMES,
  INGEST_TRICKPLAY_INTERVAL_SECONDS,
} from './pipeline.js';
import { PRIORITY_CLASSES } from './schedule.js';

/** Longest ingest id: its stages' job ids, `<ingestId>-<stage>`, stay within the id rule's 128 characters. */
export const MAX_INGEST_ID_LENGTH = MAX_ID_LENGTH - 1 - Math.max(...INGEST_STAGE_NAMES.map((n) => n.length));

const stageStatus = z.enum(['pending', 'running', 'completed', 'failed', 'skipped']);

/** One stage of a stored ingest state. */
export const ingestStageSchema = z.object({
  name: z.enum(INGEST_STAGE_NAMES),
  status: stageStatus,
  progress: z.number(),
  fatal: z.boolean(),
  from: z.number(),
  to: z.number(),
  startedAt: z.number().optional(),
  finishedAt: z.number().optional(),
  error: z.string().optional(),
  /** The failure's stable code (`NO_VIDEO`, `NOT_MEDIA`, `INPUT_TOO_LARGE`…; the queues README lists them). */
  code: z.string().optional(),
  jobId: z.string().optional(),
  /** Seconds the running stage still needs at its pace so far (from its parts: the transcode's chunks). */
  etaSeconds: z.number().optional(),
  /** The stage job's result, as JSON text (kept opaque to the Lua scripts). */
  result: z.string().optional(),
});

/** The ingest state stored under `Keyspace.ingest(id)` (JSON, 24 h TTL). Timestamps are Redis server time in ms. */
export const ingestStateSchema = z.object({
  ingestId: safeId,
  mediaId: safeId,
  familyId: safeId,
  status: z.enum(['pending', 'running', 'completed', 'failed', 'cancelled']),
  progress: z.number(),
  createdAt: z.number(),
  updatedAt: z.number(),
  finishedAt: z.number().optional(),
  /** When the output could first be played: its growing playlists were published (or the transcode ended). */
  playableAt: z.number().optional(),
  error: z.string().optional(),
  /** A failed ingest's stable code: its fatal stage's (the queues README lists them). */
  code: z.string().optional(),
  source: storageLocation,
  output: outputLocation,
  /** The thumbnail intervals every stage uses (absent in states written before they were recorded). */
  thumbnails: z.object({ trickplayIntervalSeconds: z.number(), spriteIntervalSeconds: z.number() }).optional(),
  /** Its class in the chunk schedule (absent in states written before there were classes: interactive). */
  priority: z.enum(PRIORITY_CLASSES).optional(),
  /** The sidecar subtitle files, with what their names said (absent in states written before). */
  subtitles: z.array(sidecarFile).optional(),
  /**
   * This ingest wrote the item's ownership record (`access.json`): it is removed again when the
   * ingest ends (failed or cancelled) before its transcode completed, so an attempt that made no
   * media claims nothing.
   */
  accessCreated: z.boolean().optional(),
  /** SHA-256 of the request that started it: a retry with the same id must be the same request. */
  requestHash: z.string().optional(),
  stages: z.array(ingestStageSchema),
});

export type IngestStage = z.infer<typeof ingestStageSchema>;
export type IngestState = z.infer<typeof ingestStateSchema>;

/** What {@link IngestService.start} takes. */
export const ingestRequestSchema = z
  .object({
    /**
     * Chosen by the caller for idempotent starts; short enough that every stage's job id
     * (`<ingestId>-<stage>`) is a safe id too. @default a random UUID
     */
    ingestId: safeId.max(MAX_INGEST_ID_LENGTH, `must be at most ${MAX_INGEST_ID_LENGTH} characters`).optional(),
    mediaId: safeId,
    familyId: safeId,
    source: storageLocation,
    /** Where the HLS goes. @default the service's HLS layout (`library/<mediaId>/` in bucket `media`) */
    output: outputLocation.optional(),
    renditions: z.array(z.enum(RENDITION_NAMES)).min(1).optional(),
    /** Seconds between trickplay thumbnails and between sprite thumbnails, for every stage that makes them. */
    thumbnails: z
      .object({
        trickplayIntervalSeconds: thumbnailInterval.default(INGEST_TRICKPLAY_INTERVAL_SECONDS),
        spriteIntervalSeconds: thumbnailInterval.default(INGEST_SPRITE_INTERVAL_SECONDS),
      })
      .strict()
      .prefault({}),
    /**
     * Stages another service will set (database write, search index). Stages not
     * listed are `skipped`, so the ingest can complete without them.
     * @default []
     */
    externalStages: z.array(z.enum(EXTERNAL_STAGES)).default([]),
    /**
     * `interactive`: someone wants to watch it now; `bulk`: a library scan. Every interactive
     * ingest's chunks go before every bulk one's; within a class, families take turns.
     * @default 'interactive'
     */
    priority: z.enum(PRIORITY_CLASSES).default('interactive'),
    /**
     * Subtitle files that go with the film (`film.en.srt`, `film.fr.forced.srt`…), converted by the
     * subtitles stage like its embedded tracks. What a file's entry leaves out (language, forced,
     * hearing-impaired) is read from its name. @default []
     */
    subtitles: z.array(sidecarFile).max(100).default([]),
  })
  .strict();
export type IngestRequest = z.input<typeof ingestRequestSchema>;

/** The initial stage list, from the pipeline: validate done (the request parsed), external stages pending or skipped. */
export function initialStages(external: readonly string[]): IngestStage[] {
  return INGEST_PIPELINE.map((spec): IngestStage => {
    const status =
      spec.runs.by === 'request'
        ? 'completed'
        : spec.runs.by === 'service' && !external.includes(spec.name)
          ? 'skipped'
          : 'pending';
    return {
      name: spec.name,
      status,
      progress: status === 'completed' ? 100 : 0,
      fatal: spec.fatal,
      from: spec.band[0],
      to: spec.band[1],
    };
  });
}
