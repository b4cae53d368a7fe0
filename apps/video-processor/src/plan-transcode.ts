// Planning a transcode from its probed source: the rungs, the audio renditions, the chunks and the
// thumbnails, and the parts the plan is done in.
import { type AudioTrack, type MediaInfo, matrixOf, pictureFilters, scaleTo } from '@nself-tv/media-tools';
import type { Payload } from '@nself-tv/queues';
import { type AudioSettings, DEFAULT_AUDIO } from './audio.js';
import { DEFAULT_CHUNK_SECONDS, DEFAULT_CRF, level, planChunks } from './chunks.js';
import { audioRefusal } from './copy.js';
import { MEDIA_PLAYLIST } from './hls-output.js';
import { hlsLanguage } from './languages.js';
import { type MediaEntry, oneDefault, trackName, uniqueNames } from './master.js';
import { copyDecision, describe, type ProbedSource } from './probe-source.js';
import { chunkKey, TRANSCODE_PLAN_VERSION, type TranscodePart, type TranscodePlan } from './transcode-plan.js';
import { planThumbnails } from './trickplay.js';

/** Settings of the transcode. */
export interface TranscodeOptions {
  /** Source seconds per chunk job (`TRANSCODE_CHUNK_SECONDS`), 0 for one pass. @default DEFAULT_CHUNK_SECONDS */
  chunkSeconds?: number;
  /**
   * Constant quality target of every rung, capped by the rung's bitrate (`TRANSCODE_CRF`); null
   * encodes every rung at its fixed bitrate. @default DEFAULT_CRF
   */
  crf?: number | null;
  /**
   * Copy the source's video as the top rung, and its AAC-LC audio, when they already play
   * everywhere (`TRANSCODE_COPY`); false encodes everything. @default true
   */
  copy?: boolean;
  /** Loudness, downmix and surround of the audio (`AUDIO_*`). @default DEFAULT_AUDIO */
  audio?: AudioSettings;
}

/** Folder (and HLS variant name) of audio track `i`. */
export const audioName = (track: AudioTrack, i: number) => `audio_${hlsLanguage(track.language) ?? 'und'}_${i}`;

/**
 * The multichannel rendition of a 5.1 or 7.1 track: the source's own AC-3 or E-AC-3 copied, else
 * encoded to the codec the settings name (5.1 at most); undefined for fewer channels or when off.
 */
function surroundOf(track: AudioTrack, sound: AudioSettings) {
  if (!sound.surround || (track.channels !== 6 && track.channels !== 8)) return undefined;
  if (track.codec === 'ac3' || track.codec === 'eac3')
    return { codec: track.codec, copy: true, channels: track.channels } as const;
  return { codec: sound.surround, copy: false, channels: 6 } as const;
}

/** Step 3: each audio track's renditions: copied or levelled stereo, and a surround one for 5.1/7.1. */
export function planAudio(info: MediaInfo, copyOn: boolean, sound: AudioSettings): TranscodePlan['audio'] {
  // AAC-LC stereo or mono plays everywhere as it is, when no levelling is asked; anything else
  // becomes stereo AAC.
  const copyRefusals = info.audioTracks.map((t) =>
    !copyOn
      ? 'TRANSCODE_COPY is off'
      : (audioRefusal(t) ?? (sound.loudness === null ? undefined : 'AUDIO_LOUDNESS levels the stereo rendition')),
  );
  const entries = (surround: boolean) =>
    uniqueNames(
      oneDefault(
        info.audioTracks.map((t, i) => {
          const language = hlsLanguage(t.language);
          const multi = surround && surroundOf(t, sound);
          return {
            uri: `${audioName(t, i)}${multi ? '_mc' : ''}/${MEDIA_PLAYLIST}`,
            language,
            name: trackName(t.title, language, `Audio ${i + 1}`),
            default: t.default,
            channels: multi ? multi.channels : copyRefusals[i] === undefined ? t.channels : 2,
          };
        }),
      ),
    );
  const surroundEntries = entries(true);
  return entries(false).map((entry, i) => {
    const track = info.audioTracks[i] as AudioTrack;
    const multi = surroundOf(track, sound);
    return {
      index: track.index,
      folder: audioName(track, i),
      entry,
      sourceChannels: track.channels ?? 2,
      copied: copyRefusals[i] === undefined,
      copyRefusal: copyRefusals[i] ?? null,
      downmix: track.channels > 2 ? sound.downmix : null,
      surround: multi
        ? {
            folder: `${audioName(track, i)}_mc`,
            entry: surroundEntries[i] as MediaEntry,
            codec: multi.codec,
            copied: multi.copy,
          }
        : undefined,
    };
  });
}

/** The plan, and what the parts need besides it. */
export interface PlannedTranscode {
  plan: TranscodePlan;
  spans: ReturnType<typeof planChunks>;
  copy: Awaited<ReturnType<typeof copyDecision>>['copy'];
  crf: number | null;
}

/** Step 4: the plan: rungs (the top one copied when it can be), audio, chunks and thumbnails. */
export async function planTranscode(
  input: string,
  source: ProbedSource,
  payload: Payload<'video:transcode'>,
  options: TranscodeOptions,
  hasStill: boolean,
  signal: AbortSignal,
): Promise<PlannedTranscode> {
  const { info, video, deinterlace, ladder } = source;
  const thumbs = (interval: number | undefined) =>
    interval === undefined ? undefined : planThumbnails(info.durationSeconds, interval);
  const copyOn = options.copy ?? true;
  const sound = options.audio ?? DEFAULT_AUDIO;
  const top = ladder[ladder.length - 1];
  const { copy, refusals } = await copyDecision(input, info, video, top, deinterlace, copyOn, signal);
  const spans = planChunks(
    info.durationSeconds,
    video.fps,
    options.chunkSeconds ?? DEFAULT_CHUNK_SECONDS,
    copy?.boundaries,
  );
  const plan: TranscodePlan = {
    version: TRANSCODE_PLAN_VERSION,
    durationSeconds: info.durationSeconds,
    fps: video.fps,
    source: describe(info, video, deinterlace !== false, refusals, copy),
    rungs: ladder.map((r) => ({
      name: r.name,
      width: r.width,
      height: r.height,
      videoKbps: r.videoKbps,
      ...(copy && r === top ? { copied: { codec: copy.codec, peakBitrate: copy.peakBitrate } } : {}),
    })),
    audio: planAudio(info, copyOn, sound),
    audioSettings: sound,
    chunks: spans.length,
    hasStill,
    trickplay: thumbs(payload.thumbnails?.trickplayIntervalSeconds),
    frames: thumbs(payload.thumbnails?.frameIntervalSeconds),
  };
  return { plan, spans, copy, crf: options.crf === undefined ? DEFAULT_CRF : options.crf };
}

/** Step 5: the parts the plan is done in: the audio, then each chunk of every rung, in film order. */
export function partsOf(
  payload: Payload<'video:transcode'>,
  { video, deinterlace, ladder }: ProbedSource,
  { plan, spans, copy, crf }: PlannedTranscode,
): { key: string; order: number; data: TranscodePart }[] {
  const matrix = matrixOf(video);
  const picture = pictureFilters(video, { deinterlace, constantRate: true });
  const top = ladder[ladder.length - 1];
  const common = { source: payload.source, output: payload.output };
  // In film order: the audio and the first chunk first, so the film is playable soonest.
  const chunkParts = spans.map((span, i) => ({
    key: chunkKey(span.index),
    order: span.index,
    data: {
      kind: 'chunk',
      ...common,
      span,
      videoIndex: video.index,
      fps: video.fps,
      picture,
      rungs: ladder.map((r) => ({
        name: r.name,
        scale: scaleTo(r.width, r.height, matrix),
        videoKbps: r.videoKbps,
        level: level(r).level,
      })),
      ...(crf === null ? {} : { crf }),
      ...(copy && top
        ? {
            copy: {
              rung: top.name,
              segments: copy.boundaries.slice(span.firstSegment, spans[i + 1]?.firstSegment ?? copy.boundaries.length),
              end: span.endFrame ?? copy.endFrame,
              phase: copy.phase,
              ...(copy.colourTags === 'source' ? {} : { colourTags: copy.colourTags }),
            },
          }
        : {}),
      display: { width: video.width, height: video.height },
      matrix,
      ...(plan.trickplay ? { trickplay: { interval: plan.trickplay.interval, count: plan.trickplay.count } } : {}),
      ...(plan.frames ? { frames: { interval: plan.frames.interval, count: plan.frames.count } } : {}),
    } satisfies TranscodePart,
  }));
  const audioPart = plan.audio.length
    ? [
        {
          key: 'audio',
          order: 0,
          data: {
            kind: 'audio',
            ...common,
            tracks: plan.audio.map((a) => ({
              index: a.index,
              name: a.folder,
              channels: a.sourceChannels,
              copy: a.copied,
              ...(a.surround
                ? { surround: { name: a.surround.folder, codec: a.surround.codec, copy: a.surround.copied } }
                : {}),
            })),
            settings: plan.audioSettings,
          } satisfies TranscodePart,
        },
      ]
    : [];
  // The audio first: a film plays once its audio and the first chunk of every rung are stored.
  return [...audioPart, ...chunkParts];
}
