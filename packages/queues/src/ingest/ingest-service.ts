import { createHash, randomUUID } from 'node:crypto';
import { defineLuaScript, type Keyspace, keyspaceFor, namespaceTtl, type RedisClient } from '@nself-tv/redis-keys';
import { type HlsLayout, hlsLayout, type MediaStorage, recordMediaAccess, releaseMediaAccess } from '@nself-tv/storage';
import { PayloadError, QueueError, redisFailure } from '../errors.js';
import type { Producer } from '../producer.js';
import { failureCode, UNCODED_FAILURE } from '../runner/retry-policy.js';
import cancelSource from './cancel.lua';
import activeSource from './ingest-active.lua';
import rateSource from './ingest-rate.lua';
import {
  type ExternalStageName,
  firstIngestJob,
  type IngestStageName,
  PLAYABLE_STAGE,
  queueOfStage,
  SCHEDULED_STAGE,
  type StageStatus,
  stageSpec,
} from './pipeline.js';
import { transcodePriority } from './schedule.js';
import { withNameHints } from './sidecar-names.js';
import {
  type IngestRequest,
  type IngestState,
  ingestRequestSchema,
  ingestStateSchema,
  initialStages,
} from './state.js';
import updateSource from './update-stage.lua';

const updateStage = defineLuaScript(updateSource);
const countIngest = defineLuaScript(rateSource);
const cancelScript = defineLuaScript(cancelSource);
const placeIngest = defineLuaScript(activeSource);

/** Fields of a stage update. */
export interface StageUpdate {
  status?: StageStatus;
  /** 0–100 within the stage. */
  progress?: number;
  error?: string;
  /** The failure's stable code, with `error`. */
  code?: string;
  jobId?: string;
  /** The stage's result, stored as JSON. */
  result?: unknown;
}

/** Options of {@link createIngestService}. */
export interface IngestServiceOptions {
  connection: RedisClient;
  /** Used to enqueue the transcode job and, later, the parallel stages. */
  producer: Producer;
  keyspace?: Keyspace;
  /**
   * Where an ingest's HLS goes when the request names no `output`; the gateway
   * serves playback from the same layout. @default hlsLayout() (`media`, `library/{mediaId}/`)
   */
  layout?: HlsLayout;
  /**
   * Called once when an ingest completes, by the process whose update completed
   * it: the apps invalidate `cache:recent` here (the spec gives it 5 min so new
   * additions show quickly). Its failure does not fail the update.
   * @default none
   */
  onCompleted?: (state: IngestState) => Promise<void>;
  /**
   * The media store the HLS goes to. When set, an ingest into the layout records its family as
   * the item's owner (`access.json`, read by the gateway at admit) and refuses an item another
   * family owns (`MEDIA_OWNED`). @default none (nothing recorded; the gateway then admits nobody
   * under `PLAYBACK_ACCESS=owner`)
   */
  storage?: MediaStorage;
  /**
   * Bounds on new ingests (retries of a known id are not counted), refused with `INGEST_LIMIT`
   * and when to retry: each family's ingests per minute, counted in Redis for every process,
   * and the transcodes waiting for a worker, everyone's together. @default {@link INGEST_LIMITS}
   */
  limits?: Partial<IngestLimits>;
}

/** Bounds on new ingests. */
export interface IngestLimits {
  /** New ingests one family may start per minute. */
  perFamilyPerMinute: number;
  /** Transcodes waiting (waiting, prioritized, delayed) above which no new ingest starts. */
  maxWaiting: number;
}

/**
 * A library scan of a few thousand titles queues in well under an hour at 120 a minute (each
 * film takes minutes to transcode anyway); 2000 waiting transcodes is days of work for a small
 * worker pool and about 10 MB of Redis.
 */
export const INGEST_LIMITS: IngestLimits = { perFamilyPerMinute: 120, maxWaiting: 2000 };

/** Refused by {@link IngestLimits}: retry after `retryAfterSeconds`. */
export class IngestLimitError extends QueueError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('INGEST_LIMIT', message);
  }
}

/** What {@link IngestService.begin} answers. */
export interface IngestStart {
  state: IngestState;
  /** True when the ingest already existed (a retry), whichever of two concurrent calls got there first. */
  replayed: boolean;
}

/** Starts, reads, advances and cancels ingests stored under `Keyspace.ingest(id)`. */
export interface IngestService {
  /**
   * Validates the request, writes the state and enqueues the transcode job,
   * then returns at once. Starting the same `ingestId` twice returns the
   * existing ingest and enqueues nothing new.
   * @throws PayloadError `INVALID_PAYLOAD` (nothing written), QueueError `REDIS_UNAVAILABLE`.
   */
  start(request: IngestRequest): Promise<IngestState>;
  /**
   * {@link start}, saying whether the ingest already existed. A request with a known `ingestId`
   * that differs from the first in any field (family, media, source, output, renditions,
   * thumbnails, stages) is refused with `INGEST_CONFLICT`, whoever sent it.
   * @throws as {@link start}, and QueueError `INGEST_CONFLICT` or `MEDIA_OWNED`
   */
  begin(request: IngestRequest): Promise<IngestStart>;
  /** The current state, or `undefined` when unknown or expired. */
  get(ingestId: string): Promise<IngestState | undefined>;
  /** Updates one stage atomically; returns the new state. @throws QueueError `INGEST_NOT_FOUND` */
  updateStage(ingestId: string, stage: IngestStageName, update: StageUpdate): Promise<IngestState>;
  /** Records that the ingest's output can be played from now on (once; later calls change nothing). */
  markPlayable(ingestId: string): Promise<IngestState>;
  /** For services outside this repo: sets `database` or `index`. */
  setExternalStage(
    ingestId: string,
    stage: ExternalStageName,
    update: Omit<StageUpdate, 'jobId'>,
  ): Promise<IngestState>;
  /** Marks the ingest cancelled and removes its jobs that have not started. */
  cancel(ingestId: string): Promise<IngestState>;
  /** Job id used for a stage's job, so enqueues are idempotent. */
  jobIdFor(ingestId: string, stage: IngestStageName): string;
}

const TTL = namespaceTtl('ingest');

/** JSON with object keys sorted, so one request always hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * A Redis call of the service: a failure of the connection is `REDIS_UNAVAILABLE`, a write
 * refused at maxmemory `REDIS_FULL` (both 503 over HTTP), whatever ioredis said. No deadline:
 * on a worker connection a stage update waits through an outage; a request connection refuses
 * at once on its own.
 */
async function redis<T>(what: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof QueueError) throw error;
    throw redisFailure(what, error);
  }
}

function parseState(raw: unknown): IngestState {
  return ingestStateSchema.parse(JSON.parse(String(raw)));
}

/** Creates the ingest service. */
export function createIngestService(options: IngestServiceOptions): IngestService {
  const keys = options.keyspace ?? keyspaceFor(options.connection);
  const { connection, producer } = options;
  const layout = options.layout ?? hlsLayout();
  const limits: IngestLimits = { ...INGEST_LIMITS, ...options.limits };

  /** Refuses a new ingest over the bounds; counts it for its family otherwise. */
  const admitIngest = async (familyId: string) => {
    const counts = await redis(
      'ingest limits',
      producer.queue('video:transcode').getJobCounts('waiting', 'prioritized', 'delayed'),
    );
    const waiting = (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0);
    if (waiting >= limits.maxWaiting) {
      throw new IngestLimitError(`${waiting} transcodes are waiting for a worker; retry later`, 60);
    }
    const wait = Number(
      await redis(
        'ingest limits',
        countIngest.run(connection, [keys.ingestRate(familyId)], [String(limits.perFamilyPerMinute), '60']),
      ),
    );
    if (wait > 0) {
      throw new IngestLimitError(`more than ${limits.perFamilyPerMinute} ingests a minute for this family`, wait);
    }
  };

  const leaveSchedule = (state: IngestState) =>
    connection.zrem(keys.ingestActive(state.familyId), state.ingestId).catch(() => 0);
  /** Removes an ownership record this service wrote; a store that fails here leaves it, as before. */
  const releaseAccess = async (mediaId: string, familyId: string) => {
    if (options.storage) await releaseMediaAccess(options.storage, layout, mediaId, familyId);
  };
  /** An ingest that ended without media gives back the record it wrote. */
  const releaseIfNoMedia = async (state: IngestState) => {
    if (!state.accessCreated) return;
    if (state.stages.some((s) => s.name === SCHEDULED_STAGE && s.status === 'completed')) return;
    await releaseAccess(state.mediaId, state.familyId).catch(() => undefined);
  };

  const update = async (ingestId: string, stage: IngestStageName, change: StageUpdate, playable: boolean) => {
    const out = await redis(
      'ingest update',
      updateStage.run(
        connection,
        [keys.ingest(ingestId)],
        [
          stage,
          change.status ?? '',
          change.progress === undefined ? '' : String(change.progress),
          change.error ?? '',
          change.jobId ?? '',
          change.result === undefined ? '' : JSON.stringify(change.result),
          TTL,
          // Playable from now on: its job said so, or a stage whose output plays has completed.
          playable || (stageSpec(stage).playable && change.status === 'completed') ? '1' : '',
          change.code ?? '',
        ],
      ),
    );
    if (out === null) throw new QueueError('INGEST_NOT_FOUND', `ingest ${ingestId} does not exist or has expired`);
    const [json, ended] = out as [string, string];
    const state = parseState(json);
    // A scheduled stage (the transcode) that has ended leaves its family's schedule: the family's next films move up.
    const scheduled = state.stages.find((s) => s.name === SCHEDULED_STAGE);
    const scheduleEnded = stage === SCHEDULED_STAGE && scheduled && scheduled.status !== 'running';
    if (ended !== '' || scheduleEnded) {
      await leaveSchedule(state);
    }
    if (ended === 'failed') await releaseIfNoMedia(state);
    // Exactly once per ingest: only the update that finished it reports 'completed'.
    if (ended === 'completed' && options.onCompleted) {
      await options.onCompleted(state).catch(() => undefined);
    }
    return state;
  };

  const service: IngestService = {
    jobIdFor: (ingestId, stage) => `${ingestId}-${stage}`,

    async start(request) {
      return (await service.begin(request)).state;
    },

    async begin(request) {
      const parsed = ingestRequestSchema.safeParse(request);
      if (!parsed.success) {
        throw new PayloadError(
          'INVALID_PAYLOAD',
          'ingest',
          parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        );
      }
      const { output: asked, ...rest } = parsed.data;
      // The item's folder in the layout: the default output, and where its access record goes.
      let layoutPrefix: string | undefined;
      try {
        layoutPrefix = layout.prefixFor(rest.mediaId);
      } catch (error) {
        if (!asked) {
          throw new PayloadError('INVALID_PAYLOAD', 'ingest', [{ path: 'mediaId', message: (error as Error).message }]);
        }
      }
      const output = asked ?? { bucket: layout.bucket, prefix: layoutPrefix as string };
      const req = { ...rest, output };
      const ingestId = req.ingestId ?? randomUUID();
      // Every field of the request but its id: a retry must send the same, or it is another request.
      const { ingestId: _id, ...asked_ } = parsed.data;
      const requestHash = createHash('sha256').update(canonicalJson(asked_)).digest('hex');
      const replay = async (): Promise<IngestStart | undefined> => {
        const existing = await service.get(ingestId);
        if (!existing) return undefined;
        // States written before the hash was kept compare by what they hold.
        const same = existing.requestHash
          ? existing.requestHash === requestHash
          : existing.familyId === req.familyId && existing.mediaId === req.mediaId;
        if (!same) {
          // Nothing of the other ingest is told: it may be another family's.
          throw new QueueError('INGEST_CONFLICT', `ingest id ${ingestId} was used for another request`);
        }
        return { state: existing, replayed: true };
      };
      const known = await replay();
      if (known) return known;
      await admitIngest(req.familyId);
      const inLayout = output.bucket === layout.bucket && output.prefix === layoutPrefix;
      let accessCreated = false;
      if (options.storage && inLayout) {
        const owner = await recordMediaAccess(options.storage, layout, req.mediaId, req.familyId);
        if (owner === 'taken') {
          throw new QueueError('MEDIA_OWNED', `media ${req.mediaId} belongs to another family`);
        }
        accessCreated = owner === 'created';
      }
      // Nothing half-written: a start that fails from here on takes back the record it wrote.
      const undoAccess = async () => {
        if (accessCreated) await releaseAccess(req.mediaId, req.familyId);
      };
      let state: IngestState;
      let jobId: string;
      let rank: number;
      // The first job (the transcode's) carries the name of its last stage; its first stage waits for it.
      const first = firstIngestJob();
      try {
        const key = keys.ingest(ingestId);
        const [seconds, micros] = await redis('ingest start', connection.time());
        const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
        const stages = initialStages(req.externalStages);
        state = {
          ingestId,
          mediaId: req.mediaId,
          familyId: req.familyId,
          status: 'pending',
          // Ended stages (validate, skipped external ones) count in full, as update-stage.lua counts them.
          progress: stages.filter((s) => s.status !== 'pending').reduce((sum, s) => sum + s.to - s.from, 0),
          createdAt: now,
          updatedAt: now,
          source: req.source,
          output: req.output,
          thumbnails: req.thumbnails,
          ...(req.subtitles.length ? { subtitles: req.subtitles.map(withNameHints) } : {}),
          priority: req.priority,
          ...(accessCreated ? { accessCreated } : {}),
          requestHash,
          stages,
        };
        jobId = service.jobIdFor(ingestId, first.main);
        // Its place among the family's transcodes in flight sets its priority and its chunks'.
        rank = Number(
          await redis(
            'ingest start',
            placeIngest.run(connection, [keys.ingestActive(req.familyId)], [ingestId, String(now), String(TTL)]),
          ),
        );
        // The job id is known before the job exists, so the state never misses it.
        for (const stage of stages) if (stage.name === first.stages[0]) stage.jobId = jobId;
        const created = await redis('ingest start', connection.set(key, JSON.stringify(state), 'EX', TTL, 'NX'));
        if (created === null) {
          // Another call with this id got there first: the same answer as a later retry.
          const raced = await replay();
          if (raced) return raced;
        }
      } catch (error) {
        await undoAccess().catch(() => undefined);
        throw error;
      }
      try {
        await producer.enqueue(
          'video:transcode',
          {
            mediaId: req.mediaId,
            familyId: req.familyId,
            ingestId,
            source: req.source,
            output: req.output,
            ...(req.renditions ? { renditions: req.renditions } : {}),
            // One decode makes the trickplay sheets and the sprite frames too: the trickplay stage
            // completes with the transcode and the sprite stage tiles those frames.
            thumbnails: {
              trickplayIntervalSeconds: req.thumbnails.trickplayIntervalSeconds,
              frameIntervalSeconds: req.thumbnails.spriteIntervalSeconds,
            },
          },
          { jobId, priority: transcodePriority(req.priority, rank) },
        );
      } catch (error) {
        await service.updateStage(ingestId, first.stages[0] as IngestStageName, {
          status: 'failed',
          error: `could not enqueue: ${(error as Error).message}`,
          code: failureCode(error) ?? UNCODED_FAILURE,
        });
        throw error;
      }
      return { state, replayed: false };
    },

    async get(ingestId) {
      const raw = await redis('ingest read', connection.get(keys.ingest(ingestId)));
      return raw === null ? undefined : parseState(raw);
    },

    markPlayable(ingestId) {
      return update(ingestId, PLAYABLE_STAGE, {}, true);
    },

    updateStage: (ingestId, stage, stageUpdate) => update(ingestId, stage, stageUpdate, false),

    setExternalStage(ingestId, stage, update) {
      return service.updateStage(ingestId, stage, update);
    },

    async cancel(ingestId) {
      const out = await redis('ingest cancel', cancelScript.run(connection, [keys.ingest(ingestId)], [TTL]));
      if (out === null) throw new QueueError('INGEST_NOT_FOUND', `ingest ${ingestId} does not exist or has expired`);
      const state = parseState(out);
      await leaveSchedule(state);
      await releaseIfNoMedia(state);
      await Promise.all(
        state.stages
          .filter((s) => s.jobId)
          .map(async (s) => {
            const target = queueOfStage(s.name);
            if (!target || !s.jobId) return;
            // An active job is locked and cannot be removed; its worker aborts it on its next report.
            // So is a job whose parts are running: its waiting parts go first, one by one.
            const queue = producer.queue(target);
            const job = await queue.getJob(s.jobId).catch(() => undefined);
            const { unprocessed = [] } = (await job?.getDependencies({ unprocessed: { count: 10_000 } })) ?? {};
            await Promise.all(
              unprocessed.map((key) =>
                queue.remove(key.slice(key.lastIndexOf(':') + 1), { removeChildren: true }).catch(() => 0),
              ),
            );
            await queue.remove(s.jobId).catch(() => 0);
          }),
      );
      return state;
    },
  };
  return service;
}
