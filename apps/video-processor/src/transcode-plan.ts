import { RENDITION_NAMES, RESULT_SCHEMAS } from '@nself-tv/queues';
import { z } from 'zod';
import { audioSettings, audioTrackWork, LEGACY_AUDIO, type Levelling, type Loudness } from './audio.js';
import { chunkWork } from './chunks.js';
import type { MediaEntry } from './master.js';
import type { MeasuredSegment } from './playlists.js';
import { thumbnailPlan } from './trickplay.js';

/**
 * The transcode's plan and its parts, the shapes that are kept in Redis between runs: the plan
 * with the job (the run after the parts and every growing-playlist publish read it back), each
 * part's data with its own job. Both are parsed whenever they are read back; the plan carries a
 * version, and a plan written by an older release is upgraded in one place ({@link readPlan}),
 * because work queued before a deploy must still run after it.
 */

/** The plan's version: bump it with a new upgrade step when its shape changes. */
export const TRANSCODE_PLAN_VERSION = 2;

const mediaEntry = z
  .object({
    uri: z.string().max(1024),
    // JSON drops an undefined language: read back, it is there again, undefined.
    language: z.string().max(64).optional(),
    name: z.string().max(256),
    default: z.boolean(),
    forced: z.boolean().optional(),
    hearingImpaired: z.boolean().optional(),
    channels: z.number().int().positive().max(64).optional(),
  })
  .transform((entry) => ({ ...entry, language: entry.language })) satisfies z.ZodType<MediaEntry, unknown>;

const rung = z.object({
  name: z.enum(RENDITION_NAMES),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  videoKbps: z.number().positive(),
  /** Set on the rung that is the source's own video, copied. */
  copied: z.object({ codec: z.string().max(64), peakBitrate: z.number().nonnegative() }).optional(),
});

const audioTrack = z.object({
  index: z.number().int().nonnegative(),
  folder: z.string().regex(/^audio_[A-Za-z0-9-]+_\d+$/),
  entry: mediaEntry,
  sourceChannels: z.number().int().positive().max(64),
  copied: z.boolean(),
  /** Why the stereo rendition is encoded rather than copied. */
  copyRefusal: z.string().max(512).nullable(),
  downmix: z.enum(['dialogue', 'itu']).nullable(),
  /** The multichannel rendition beside the stereo one. */
  surround: z
    .object({
      folder: z.string().regex(/^audio_[A-Za-z0-9-]+_\d+_mc$/),
      entry: mediaEntry,
      codec: z.enum(['ac3', 'eac3']),
      copied: z.boolean(),
    })
    .optional(),
});

/** The plan as this release writes it. */
const planV2 = z.object({
  version: z.literal(TRANSCODE_PLAN_VERSION),
  durationSeconds: z.number().positive(),
  fps: z.number().positive(),
  source: RESULT_SCHEMAS['video:transcode'].shape.source,
  rungs: z.array(rung).min(1).max(RENDITION_NAMES.length),
  audio: z.array(audioTrack).max(64),
  audioSettings,
  chunks: z.number().int().positive().max(100_000),
  hasStill: z.boolean(),
  trickplay: thumbnailPlan.optional(),
  frames: thumbnailPlan.optional(),
});

/** What the first run plans and the run after the parts reads back: kept with the job. */
export type TranscodePlan = z.output<typeof planV2>;

/**
 * Version 1, the plans written before the version field: the sound work's fields may be absent
 * (plans made before it had no levelling, downmix choice or surround).
 */
const planV1 = planV2.omit({ version: true, audio: true, audioSettings: true }).extend({
  audio: z.array(
    audioTrack.extend({
      copyRefusal: z.string().max(512).nullable().optional(),
      downmix: z.enum(['dialogue', 'itu']).nullable().optional(),
    }),
  ),
  audioSettings: audioSettings.optional(),
});

const upgradeV1 = (plan: z.infer<typeof planV1>): TranscodePlan => ({
  ...plan,
  version: TRANSCODE_PLAN_VERSION,
  audio: plan.audio.map((a) => ({ ...a, copyRefusal: a.copyRefusal ?? null, downmix: a.downmix ?? null })),
  audioSettings: plan.audioSettings ?? LEGACY_AUDIO,
});

/**
 * A plan read back from Redis, in this release's shape: parsed, and upgraded when an older release
 * wrote it.
 * @throws Error naming what does not parse (a plan nobody wrote: the job's data was changed by hand)
 */
export function readPlan(stored: unknown): TranscodePlan {
  const version = (stored as { version?: unknown } | null)?.version;
  const parsed = version === undefined ? planV1.safeParse(stored) : planV2.safeParse(stored);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `the stored transcode plan (version ${String(version ?? 1)}) does not parse: ${issue?.path.join('.')}: ${issue?.message}`,
    );
  }
  return version === undefined ? upgradeV1(parsed.data as z.infer<typeof planV1>) : (parsed.data as TranscodePlan);
}

const location = z.object({ bucket: z.string().max(256), key: z.string().max(1024) }).strict();
const output = z.object({ bucket: z.string().max(256), prefix: z.string().max(1024) }).strict();
/** The data of a part of a transcode: a chunk of the video, or the audio of the whole film. */
export const transcodePart = z.discriminatedUnion('kind', [
  chunkWork.extend({ source: location, output }),
  z
    .object({
      kind: z.literal('audio'),
      source: location,
      output,
      tracks: z.array(audioTrackWork).min(1).max(64),
      // Absent in parts queued before levelling: encoded as they were then.
      settings: audioSettings.strict().default(LEGACY_AUDIO),
    })
    .strict(),
]);
export type TranscodePart = z.infer<typeof transcodePart>;

/** What a part hands to the assembly: the segments it stored, by rendition folder. */
export interface PartOutput {
  kind: 'chunk' | 'audio';
  index: number;
  renditions: Record<string, MeasuredSegment[]>;
  /** The audio part: what each track measured, by its folder, and the gain its stereo rendition got. */
  loudness?: Record<
    string,
    { source: Loudness; stereo: Loudness; levelling: Levelling | null; storedTruePeak?: number | null }
  >;
}

/** The key of chunk `i` among a transcode's parts. */
export const chunkKey = (i: number) => `c${String(i).padStart(4, '0')}`;
