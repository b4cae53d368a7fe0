import type { QueueName } from '@nself-tv/redis-keys';

/** Stages of an ingest, in order. */
export const INGEST_STAGE_NAMES = [
  'validate',
  'probe',
  'transcode',
  'trickplay',
  'subtitles',
  'posters',
  'sprites',
  'database',
  'index',
] as const;
export type IngestStageName = (typeof INGEST_STAGE_NAMES)[number];

/** Stages set by services outside this repo (through `setStage`). */
export const EXTERNAL_STAGES = ['database', 'index'] as const;
export type ExternalStageName = (typeof EXTERNAL_STAGES)[number];

export type IngestStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';
export type StageStatus = 'pending' | 'running' | 'completed' | 'failed' | 'skipped';

/** How one stage counts towards the ingest: its overall-progress band and whether failing it fails the ingest. */
export interface StageDefinition {
  readonly name: IngestStageName;
  readonly from: number;
  readonly to: number;
  readonly fatal: boolean;
}

/** Progress bands and fatality of each stage, as NOTES.md §2 records them. */
export const STAGE_DEFINITIONS: readonly StageDefinition[] = [
  { name: 'validate', from: 0, to: 5, fatal: true },
  { name: 'probe', from: 5, to: 10, fatal: true },
  { name: 'transcode', from: 10, to: 70, fatal: true },
  { name: 'trickplay', from: 70, to: 80, fatal: false },
  { name: 'subtitles', from: 80, to: 85, fatal: false },
  { name: 'posters', from: 85, to: 90, fatal: false },
  { name: 'sprites', from: 90, to: 95, fatal: false },
  { name: 'database', from: 95, to: 98, fatal: true },
  { name: 'index', from: 98, to: 100, fatal: false },
];

/** The stage a queue's jobs drive (the transcode job drives `probe`, then `transcode`). */
export const STAGE_OF_QUEUE: Partial<Record<QueueName, IngestStageName>> = {
  'video:transcode': 'transcode',
  'video:trickplay': 'trickplay',
  'video:subtitle': 'subtitles',
  'image:poster': 'posters',
  'image:sprite': 'sprites',
};

/** Seconds between trickplay thumbnails of an ingest (the trickplay payload's default). */
export const INGEST_TRICKPLAY_INTERVAL_SECONDS = 5;
/** Seconds between sprite thumbnails of an ingest. */
export const INGEST_SPRITE_INTERVAL_SECONDS = 10;

/** The stages that run in parallel once transcode has succeeded, with their queues. */
export const FAN_OUT: ReadonlyArray<{ stage: IngestStageName; queue: QueueName }> = [
  { stage: 'trickplay', queue: 'video:trickplay' },
  { stage: 'subtitles', queue: 'video:subtitle' },
  { stage: 'posters', queue: 'image:poster' },
  { stage: 'sprites', queue: 'image:sprite' },
];

/** The queue whose job drives a stage (probe and transcode share the transcode job). */
export const QUEUE_OF_STAGE: Partial<Record<IngestStageName, QueueName>> = Object.fromEntries([
  ['probe', 'video:transcode'],
  ['transcode', 'video:transcode'],
  ...FAN_OUT.map((f) => [f.stage, f.queue]),
]);
