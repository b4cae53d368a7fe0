import type { QueueName } from '@nself-tv/redis-keys';
import type { ItemEntry } from '@nself-tv/storage';
import type { OutputLocation, StorageLocation } from '../schemas/common.js';
import type { JobResult, Payload, PayloadInput } from '../schemas/registry.js';
import type { SidecarFile } from '../schemas/video.js';

/**
 * Who moves a stage forward: the ingest request itself (`validate` is done once it parses), a job
 * on one of the six queues, or a service outside this repo (through `setExternalStage`).
 */
export type StageRunner =
  | { readonly by: 'request' }
  | { readonly by: 'job'; readonly queue: QueueName }
  | { readonly by: 'service' };

/** One stage of the ingest, as {@link INGEST_PIPELINE} declares it. */
export interface StageSpec {
  readonly name: string;
  /** Its share of the ingest's overall progress, in percent: from, to. */
  readonly band: readonly [number, number];
  /** Failing it fails the ingest; otherwise the failure is recorded and the ingest completes. */
  readonly fatal: boolean;
  readonly runs: StageRunner;
  /**
   * The stages that must have ended first. A job stage after a job stage of another queue is
   * enqueued when the last of them completes; after one of its own queue, it is a later phase of
   * the same job (the transcode job probes, then transcodes).
   */
  readonly after: readonly string[];
  /** Its job splits into parts (BullMQ child jobs) placed by the ingest's priority class and its family's turn. */
  readonly parts?: true;
  /** Its output can be played once it completes, or earlier once its job says so (growing playlists). */
  readonly playable?: true;
  /** A field of the result of the stage it waits for that, when present, is this stage's result: the work was done there. */
  readonly doneBy?: string;
  /** Its folder inside the media item (an `ITEM_LAYOUT` entry): what its job writes, under the transcode's output. */
  readonly folder?: ItemEntry;
  /**
   * Its job's payload, for a stage enqueued when the transcode completes; `undefined` when there is
   * nothing to do (the stage is skipped).
   */
  readonly payload?: (input: FanOutInput) => PayloadInput<QueueName> | undefined;
}

/** What a stage after the transcode builds its job's payload from. */
export interface FanOutInput {
  readonly transcode: Payload<'video:transcode'>;
  readonly result: JobResult<'video:transcode'>;
  /** The stage's own folder: its row's `folder` entry under the transcode's output. */
  readonly output: OutputLocation;
  /** The sidecar subtitle files the ingest request named. */
  readonly sidecars: readonly SidecarFile[];
  readonly thumbnails: { readonly trickplayIntervalSeconds: number; readonly spriteIntervalSeconds: number };
}

const common = ({ transcode: t }: FanOutInput) => ({ mediaId: t.mediaId, familyId: t.familyId, ingestId: t.ingestId });

/**
 * The ingest, declared once: the ingest service (which job starts it), the tracker (which stage a
 * job drives, what to enqueue when one completes), the state (stage list, bands, fatality), the
 * status API (whose state schema lists these names) and the README's stage table all read it.
 * Bands and fatality are the ones the nself-tv clients were built against (the platform's pipeline notes).
 */
export const INGEST_PIPELINE = [
  { name: 'validate', band: [0, 5], fatal: true, runs: { by: 'request' }, after: [] },
  { name: 'probe', band: [5, 10], fatal: true, runs: { by: 'job', queue: 'video:transcode' }, after: ['validate'] },
  {
    name: 'transcode',
    band: [10, 70],
    fatal: true,
    runs: { by: 'job', queue: 'video:transcode' },
    after: ['probe'],
    parts: true,
    playable: true,
  },
  {
    name: 'trickplay',
    band: [70, 80],
    fatal: false,
    runs: { by: 'job', queue: 'video:trickplay' },
    after: ['transcode'],
    doneBy: 'trickplay',
    folder: 'trickplay',
    payload: (i) => ({
      ...common(i),
      source: i.transcode.source,
      output: i.output,
      intervalSeconds: i.thumbnails.trickplayIntervalSeconds,
    }),
  },
  {
    name: 'subtitles',
    band: [80, 85],
    fatal: false,
    runs: { by: 'job', queue: 'video:subtitle' },
    after: ['transcode'],
    folder: 'subtitles',
    payload: (i) => ({
      ...common(i),
      source: i.transcode.source,
      output: i.output,
      masterPlaylist: { bucket: i.transcode.output.bucket, key: i.result.masterPlaylistKey },
      ...(i.sidecars.length ? { sidecars: [...i.sidecars] } : {}),
    }),
  },
  {
    name: 'posters',
    band: [85, 90],
    fatal: false,
    runs: { by: 'job', queue: 'image:poster' },
    after: ['transcode'],
    folder: 'posters',
    payload: (i) => {
      if (i.result.stillFrameKey === undefined) return undefined;
      const still: StorageLocation = { bucket: i.transcode.output.bucket, key: i.result.stillFrameKey };
      return { ...common(i), source: still, output: i.output };
    },
  },
  {
    name: 'sprites',
    band: [90, 95],
    fatal: false,
    runs: { by: 'job', queue: 'image:sprite' },
    after: ['transcode'],
    folder: 'sprites',
    payload: (i) => {
      const { frames } = i.result;
      // Frames from the transcode's own decode: the sprite stage only tiles them.
      if (frames && frames.keys.length > 0) {
        const bucket = i.transcode.output.bucket;
        const images = frames.keys.map((key, n) => ({ bucket, key, timestamp: n * frames.intervalSeconds }));
        return { ...common(i), images, intervalSeconds: frames.intervalSeconds, output: i.output };
      }
      return {
        ...common(i),
        video: i.transcode.source,
        intervalSeconds: i.thumbnails.spriteIntervalSeconds,
        output: i.output,
      };
    },
  },
  { name: 'database', band: [95, 98], fatal: true, runs: { by: 'service' }, after: ['transcode'] },
  { name: 'index', band: [98, 100], fatal: false, runs: { by: 'service' }, after: ['database'] },
] as const satisfies readonly StageSpec[];

type Declared = (typeof INGEST_PIPELINE)[number];
/** Stages of an ingest, in order. */
export type IngestStageName = Declared['name'];
/** Stages set by services outside this repo (through `setExternalStage`). */
export type ExternalStageName = Extract<Declared, { runs: { by: 'service' } }>['name'];
/** Stages that a job on a queue drives. */
export type JobStageName = Extract<Declared, { runs: { by: 'job' } }>['name'];

export type IngestStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';
export type StageStatus = 'pending' | 'running' | 'completed' | 'failed' | 'skipped';

const declared: readonly StageSpec[] = INGEST_PIPELINE;

export const INGEST_STAGE_NAMES = INGEST_PIPELINE.map((s) => s.name) as [IngestStageName, ...IngestStageName[]];
export const EXTERNAL_STAGES = declared.filter((s) => s.runs.by === 'service').map((s) => s.name) as [
  ExternalStageName,
  ...ExternalStageName[],
];

/** The declaration of a stage. */
export function stageSpec(name: IngestStageName): StageSpec {
  return declared.find((s) => s.name === name) as StageSpec;
}

/** The queue whose job drives a stage, if a job does. */
export function queueOfStage(name: IngestStageName): QueueName | undefined {
  const { runs } = stageSpec(name);
  return runs.by === 'job' ? runs.queue : undefined;
}

/** One job of an ingest: its queue, the stages it drives in order (its phases) and the last, whose name its job id carries. */
export interface IngestJob {
  readonly queue: QueueName;
  readonly stages: readonly JobStageName[];
  readonly main: JobStageName;
}

/** The ingest's job on a queue, or `undefined` for a queue no stage runs on. */
export function ingestJobOf(queue: QueueName): IngestJob | undefined {
  const stages = declared
    .filter((s) => s.runs.by === 'job' && s.runs.queue === queue)
    .map((s) => s.name) as JobStageName[];
  const main = stages.at(-1);
  return main === undefined ? undefined : { queue, stages, main };
}

/** The job that starts an ingest: the one whose first stage waits only for the request. */
export function firstIngestJob(): IngestJob {
  const first = declared.find(
    (s) => s.runs.by === 'job' && s.after.every((a) => stageSpec(a as IngestStageName).runs.by === 'request'),
  );
  if (first?.runs.by !== 'job') throw new TypeError('the ingest pipeline declares no first job');
  return ingestJobOf(first.runs.queue) as IngestJob;
}

/** Job stages on other queues that wait for `stage`: enqueued when it completes. */
export function stagesAfter(stage: IngestStageName): JobStageName[] {
  const queue = queueOfStage(stage);
  return declared
    .filter((s) => s.runs.by === 'job' && s.runs.queue !== queue && s.after.includes(stage))
    .map((s) => s.name) as JobStageName[];
}

/** The stage whose job holds the ingest's place in its family's schedule (its parts' priority). */
export const SCHEDULED_STAGE = declared.find((s) => s.parts)?.name as IngestStageName;
/** The stage whose output is what plays (its job reports when that is playable before it ends). */
export const PLAYABLE_STAGE = declared.find((s) => s.playable)?.name as IngestStageName;

/** Renders the stage table of the README from the declaration (the queues tests fail when it drifts). */
export function renderStageTable(): string {
  const runner = (s: StageSpec) =>
    s.runs.by === 'job' ? `\`${s.runs.queue}\`` : s.runs.by === 'request' ? 'the request' : 'another service';
  const rows = declared.map((s) => {
    const notes = [
      ...(s.parts ? ['in parts'] : []),
      ...(s.playable ? ['playable'] : []),
      ...(s.doneBy ? [`done by the ${s.after.join(', ')} job when its result has \`${s.doneBy}\``] : []),
    ];
    return `| ${s.name} | ${s.band[0]}–${s.band[1]} | ${s.fatal ? 'yes' : 'no'} | ${runner(s)} | ${s.after.join(', ') || '—'} | ${notes.join('; ') || '—'} |`;
  });
  return [
    '| Stage | Overall band | Fatal | Run by | Waits for | Notes |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** Seconds between trickplay thumbnails of an ingest (the trickplay payload's default). */
export const INGEST_TRICKPLAY_INTERVAL_SECONDS = 5;
/** Seconds between sprite thumbnails of an ingest. */
export const INGEST_SPRITE_INTERVAL_SECONDS = 10;
