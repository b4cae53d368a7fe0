import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type AudioTrack,
  checkFrameSize,
  FFMPEG_PRELUDE,
  ffmpegInput,
  frameName,
  h264Sps,
  interlacing,
  keyUnder,
  MediaError,
  type MediaInfo,
  type MediaLimits,
  matrixOf,
  pictureFilters,
  probe,
  run,
  scaleTo,
  sheetOutput,
  tileFramesInput,
  tools,
  type VideoInfo,
  videoPackets,
} from '@nself-tv/media-tools';
import {
  type JobContext,
  type JobResult,
  type OutputLocation,
  type PartParent,
  type Payload,
  PayloadError,
} from '@nself-tv/queues';
import { type MediaStorage, withLocalFile, withTempDir } from '@nself-tv/storage';
import { z } from 'zod';
import { AUDIO_KBPS, type AudioSettings, audioCodec, DEFAULT_AUDIO, type Levelling, type Loudness } from './audio.js';
import { encodeAudio, measureTracks } from './audio-part.js';
import {
  capKbps,
  chunkArgs,
  chunkWork,
  DEFAULT_CHUNK_SECONDS,
  DEFAULT_CRF,
  gopFrames,
  level,
  planChunks,
  SEGMENT_SECONDS,
} from './chunks.js';
import { audioRefusal, type CopyPlan, type CopyRefusal, planCopy, streamRefusals } from './copy.js';
import { parseMediaPlaylist } from './hls.js';
import { type PlannedRendition, planLadder } from './ladder.js';
import { hlsLanguage, type MediaEntry, oneDefault, trackName, uniqueNames, type VariantEntry } from './master.js';
import { filmPlaylists, type MeasuredSegment, measureSegments, storePlaylists } from './playlists.js';
import { GRID, planThumbnails, storeTrickplay, type ThumbnailPlan } from './trickplay.js';

/** Folder (and HLS variant name) of audio track `i`. */
export const audioName = (track: AudioTrack, i: number) => `audio_${hlsLanguage(track.language) ?? 'und'}_${i}`;

/**
 * Writes one JPEG of the picture (upright, SDR, square pixels) at `seconds`
 * inside the video stream's own length, or at its first frame when that seek
 * finds none; resolves `false` when the video yields no frame at all.
 */
async function stillFrame(
  input: string,
  out: string,
  video: VideoInfo,
  picture: string[],
  signal: AbortSignal,
): Promise<boolean> {
  const seconds = video.durationSeconds * 0.1;
  const filters = [...picture, scaleTo(video.width, video.height, matrixOf(video))].join(',');
  for (const at of seconds > 0 ? [seconds, 0] : [0]) {
    const args = ffmpegInput(input, ['-noautorotate', '-ss', at.toFixed(3)]);
    args.push('-map', `0:${video.index}`, '-vf', filters, '-frames:v', '1', '-q:v', '2', out);
    await run(tools.ffmpeg, args, { signal });
    const written = await stat(out).then(
      (s) => s.size > 0,
      () => false,
    );
    if (written) return true;
  }
  return false;
}

/** What the transcode found in the source, for callers and the ingest state. */
function describe(
  info: MediaInfo,
  video: VideoInfo,
  deinterlaced: boolean,
  refusals: CopyRefusal[],
  copy: CopyPlan | undefined,
) {
  return {
    width: video.width,
    height: video.height,
    codec: video.codec,
    hasAudio: info.audioTracks.length > 0,
    codedWidth: video.coded.width,
    codedHeight: video.coded.height,
    sampleAspectRatio: Math.round(video.sampleAspectRatio * 10_000) / 10_000,
    rotation: video.orientation.rotation,
    hflip: video.orientation.hflip,
    vflip: video.orientation.vflip,
    hdr: video.colour.hdr ?? null,
    colour: {
      primaries: video.colour.primaries ?? null,
      transfer: video.colour.transfer ?? null,
      matrix: video.colour.matrix ?? null,
    },
    bitDepth: video.colour.bitDepth,
    fieldOrder: video.fieldOrder,
    deinterlaced,
    fps: video.fps,
    audioTracks: info.audioTracks.length,
    videoCopy: { copied: refusals.length === 0, reasons: refusals, colourTags: copy?.colourTags ?? null },
  };
}

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

/** What the first run plans and the run after the parts reads back: kept with the job. */
interface TranscodePlan {
  durationSeconds: number;
  fps: number;
  source: JobResult<'video:transcode'>['source'];
  rungs: {
    name: PlannedRendition['name'];
    width: number;
    height: number;
    videoKbps: number;
    /** Set on the rung that is the source's own video, copied. */
    copied?: Pick<CopyPlan, 'codec' | 'peakBitrate'>;
  }[];
  audio: {
    index: number;
    folder: string;
    entry: MediaEntry;
    sourceChannels: number;
    copied: boolean;
    /** Why the stereo rendition is encoded rather than copied (absent in plans made before). */
    copyRefusal?: string | null;
    downmix?: AudioSettings['downmix'] | null;
    /** The multichannel rendition beside the stereo one. */
    surround?: { folder: string; entry: MediaEntry; codec: 'ac3' | 'eac3'; copied: boolean } | undefined;
  }[];
  /** Absent in plans made before the sound work. */
  audioSettings?: AudioSettings;
  chunks: number;
  hasStill: boolean;
  trickplay?: ThumbnailPlan | undefined;
  frames?: ThumbnailPlan | undefined;
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
      tracks: z
        .array(
          z.object({
            index: z.number().int().nonnegative(),
            name: z.string().regex(/^audio_[A-Za-z0-9-]+_\d+$/),
            // Absent in parts queued before the sound work: those keep its stereo-only downmix.
            channels: z.number().int().positive().max(64).default(2),
            copy: z.boolean().optional(),
            surround: z
              .object({
                name: z.string().regex(/^audio_[A-Za-z0-9-]+_\d+_mc$/),
                codec: z.enum(['ac3', 'eac3']),
                copy: z.boolean(),
              })
              .strict()
              .optional(),
          }),
        )
        .min(1)
        .max(64),
      // Absent in parts queued before levelling: encoded as they were then (level kept, ITU downmix).
      settings: z
        .object({
          loudness: z.number().min(-70).max(0).nullable(),
          truePeak: z.number().min(-20).max(0),
          downmix: z.enum(['dialogue', 'itu']),
          surround: z.enum(['ac3', 'eac3']).nullable(),
        })
        .strict()
        .default({ loudness: null, truePeak: -1, downmix: 'itu', surround: null }),
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

/**
 * Whether the top rung is the source's own video, copied: the stream-level conditions first (what
 * the probe says), then, when they hold, its packets (constant rate, keyframes, closed GOPs).
 */
async function copyDecision(
  input: string,
  info: MediaInfo,
  video: VideoInfo,
  top: PlannedRendition | undefined,
  deinterlace: 'tff' | 'bff' | false,
  enabled: boolean,
  signal: AbortSignal,
): Promise<{ copy: CopyPlan | undefined; refusals: CopyRefusal[] }> {
  if (!enabled) return { copy: undefined, refusals: [{ code: 'DISABLED', detail: 'TRANSCODE_COPY is off' }] };
  const refusals = streamRefusals(video, top, deinterlace);
  if (refusals.length) return { copy: undefined, refusals };
  const [packets, sps] = await Promise.all([
    videoPackets(input, video.index, signal),
    h264Sps(input, video.index, signal),
  ]);
  const planned = planCopy(packets, video, info.startSeconds, SEGMENT_SECONDS, sps, matrixOf(video));
  return { copy: planned.plan, refusals: planned.refusals };
}

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

const chunkKey = (i: number) => `c${String(i).padStart(4, '0')}`;

/**
 * The `video:transcode` processor. The first run probes the source and plans the film as
 * parts: one per chunk of the video and one for the audio, run as child jobs by every worker
 * of the queue (see {@link runTranscodePart}). The run after them checks the stored segments
 * and writes the final playlists. Called without `runParts` (in a test, a script), it runs
 * the parts itself, one after the other.
 */
export async function transcode(
  payload: Payload<'video:transcode'>,
  job: Pick<JobContext, 'progress' | 'signal'> & Partial<Pick<JobContext, 'runParts' | 'resumed' | 'exclusive'>>,
  storage: MediaStorage,
  limits: MediaLimits,
  options: TranscodeOptions = {},
): Promise<JobResult<'video:transcode'>> {
  if (job.resumed) {
    return assemble(payload, job.resumed.plan as TranscodePlan, job.resumed.results as PartOutput[], job, storage);
  }
  await job.progress(0, 'probe');
  const { plan, parts } = await withLocalFile(storage, payload.source, async (input) => {
    const source = await probeSource(input, payload, limits, job.signal);
    const hasStill = await storeStill(input, source, payload.output, storage, job.signal);
    await job.progress(100, 'probe');
    const planned = await planTranscode(input, source, payload, options, hasStill, job.signal);
    return { plan: planned.plan, parts: partsOf(payload, source, planned) };
  });
  const results = await runParts(parts, plan, job, storage);
  return assemble(payload, plan, results, job, storage);
}

/** What the plan is made from: the probed source, its picture, and the rungs it can give. */
interface ProbedSource {
  info: MediaInfo;
  video: VideoInfo;
  deinterlace: Awaited<ReturnType<typeof interlacing>>;
  ladder: ReturnType<typeof planLadder>;
}

/** Step 1: probes the source and refuses what cannot be transcoded (no video, too large, no rung fits). */
async function probeSource(
  input: string,
  payload: Payload<'video:transcode'>,
  limits: MediaLimits,
  signal: AbortSignal,
): Promise<ProbedSource> {
  const info = await probe(input, signal);
  if (!info.video) throw new MediaError('NO_VIDEO', 'source has no video stream');
  checkFrameSize(info, limits.maxVideoPixels, `${payload.source.bucket}/${payload.source.key}`);
  if (!(info.durationSeconds > 0)) throw new MediaError('NO_VIDEO', 'source has no duration');
  const video = info.video;
  const deinterlace = await interlacing(input, video, signal);
  const ladder = planLadder(video.width, video.height, payload.renditions);
  if (ladder.length === 0) {
    throw new PayloadError('INVALID_PAYLOAD', 'video:transcode', [
      {
        path: 'renditions',
        message: `none of ${payload.renditions?.join(', ')} fits a ${video.width}x${video.height} source`,
      },
    ]);
  }
  return { info, video, deinterlace, ladder };
}

/** Step 2: the still frame, a short seek-and-decode stored at once beside the HLS; false when none could be made. */
function storeStill(
  input: string,
  { video, deinterlace }: ProbedSource,
  output: OutputLocation,
  storage: MediaStorage,
  signal: AbortSignal,
): Promise<boolean> {
  return withTempDir('still', async (dir) => {
    const still = join(dir, 'still.jpg');
    const made = await stillFrame(
      input,
      still,
      video,
      pictureFilters(video, { deinterlace, constantRate: false }),
      signal,
    );
    if (made) await storage.putFile({ bucket: output.bucket, key: keyUnder(output.prefix, 'still.jpg') }, still);
    return made;
  });
}

/** Step 3: each audio track's renditions: copied or levelled stereo, and a surround one for 5.1/7.1. */
function planAudio(info: MediaInfo, copyOn: boolean, sound: AudioSettings): TranscodePlan['audio'] {
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
            uri: multi ? `${audioName(t, i)}_mc/index.m3u8` : `${audioName(t, i)}/index.m3u8`,
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
interface PlannedTranscode {
  plan: TranscodePlan;
  spans: ReturnType<typeof planChunks>;
  copy: Awaited<ReturnType<typeof copyDecision>>['copy'];
  crf: number | null;
}

/** Step 4: the plan: rungs (the top one copied when it can be), audio, chunks and thumbnails. */
async function planTranscode(
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
function partsOf(
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
            settings: plan.audioSettings ?? DEFAULT_AUDIO,
          } satisfies TranscodePart,
        },
      ]
    : [];
  // The audio first: a film plays once its audio and the first chunk of every rung are stored.
  return [...audioPart, ...chunkParts];
}

/**
 * Step 6: the parts run as jobs of their own on every video-processor (`runParts`), or, without a
 * queue (tests, benches), one after another here.
 */
async function runParts(
  parts: { key: string; order: number; data: TranscodePart }[],
  plan: TranscodePlan,
  job: Pick<JobContext, 'progress' | 'signal'> & Partial<Pick<JobContext, 'runParts'>>,
  storage: MediaStorage,
): Promise<PartOutput[]> {
  if (job.runParts) return (await job.runParts(parts, plan)) as PartOutput[];
  const results: PartOutput[] = [];
  for (const [i, part] of parts.entries()) {
    results.push(
      await runTranscodePart(
        transcodePart.parse(part.data),
        { signal: job.signal, progress: async () => undefined },
        storage,
      ),
    );
    await job.progress(((i + 1) / parts.length) * 99);
  }
  return results;
}

/** Every rung's and audio track's segments, in film order, from the chunks given (a prefix, or all). */
function filmSegments(plan: TranscodePlan, chunks: readonly PartOutput[], audio: PartOutput | undefined) {
  const rungs = plan.rungs.map((r) => ({
    name: r.name,
    width: r.width,
    height: r.height,
    codec: r.copied?.codec ?? level(r).codec,
    // The cap the encoder keeps to (maxrate), or the copied stream's planned peak and its TS
    // packaging, for a master written before the measured peak is known.
    capBitrate: r.copied ? Math.round(r.copied.peakBitrate * 1.1) : capKbps(r.videoKbps) * 1000,
    segments: chunks.flatMap((c) => c.renditions[r.name] ?? []),
  }));
  const audioOut = plan.audio.map((a) => ({
    entry: a.entry,
    codec: audioCodec('aac'),
    segments: audio?.renditions[a.folder] ?? [],
  }));
  // The surround group: every track's multichannel rendition, or its stereo one when it has none.
  const surroundOut = plan.audio.some((a) => a.surround)
    ? plan.audio.map((a, i) =>
        a.surround
          ? {
              entry: a.surround.entry,
              codec: audioCodec(a.surround.codec),
              segments: audio?.renditions[a.surround.folder] ?? [],
            }
          : (audioOut[i] as (typeof audioOut)[number]),
      )
    : [];
  return { rungs, audioOut, surroundOut };
}

/** Lists what is stored under a rendition folder: key → bytes. */
async function storedSizes(storage: MediaStorage, out: OutputLocation, folder: string): Promise<Map<string, number>> {
  const listed = await storage.list(out.bucket, keyUnder(out.prefix, `${folder}/`));
  return new Map(listed.map((o) => [o.key, o.bytes]));
}

/**
 * The run after the parts: checks that every segment a part reported is stored with its
 * size (a chunk whose output is missing or cut short is encoded again here), tiles the
 * trickplay sheets, and writes the final playlists, VOD, with the measured bandwidths.
 */
async function assemble(
  payload: Payload<'video:transcode'>,
  plan: TranscodePlan,
  reported: PartOutput[],
  job: Pick<JobContext, 'progress' | 'signal'> & Partial<Pick<JobContext, 'exclusive'>>,
  storage: MediaStorage,
): Promise<JobResult<'video:transcode'>> {
  const out = payload.output;
  const stored = new Map<string, Map<string, number>>();
  const audioFolders = plan.audio.flatMap((a) => [a.folder, ...(a.surround ? [a.surround.folder] : [])]);
  for (const folder of [...plan.rungs.map((r) => r.name), ...audioFolders]) {
    stored.set(folder, await storedSizes(storage, out, folder));
  }
  /** The first segment a part reported that is not stored with its size, if any. */
  const damaged = (p: PartOutput) => {
    for (const [folder, segs] of Object.entries(p.renditions)) {
      for (const s of segs) {
        const key = keyUnder(out.prefix, `${folder}/${s.uri}`);
        const bytes = stored.get(folder)?.get(key);
        if (bytes !== s.bytes) return `${key} is ${bytes === undefined ? 'missing' : `${bytes} bytes`}, not ${s.bytes}`;
      }
    }
    return undefined;
  };
  const chunks = reported.filter((p) => p?.kind === 'chunk').sort((a, b) => a.index - b.index);
  if (chunks.length !== plan.chunks) throw new Error(`${chunks.length} of ${plan.chunks} chunks reported a result`);
  for (const p of reported) {
    const problem = damaged(p);
    if (problem) throw new Error(`part ${p.kind} ${p.index}: ${problem}`);
  }
  const audio = reported.find((p) => p.kind === 'audio');
  const { rungs, audioOut, surroundOut } = filmSegments(plan, chunks, audio);
  const playlists = filmPlaylists(rungs, audioOut, plan.fps, true, surroundOut);
  const thumbnails = await storeThumbnails(storage, out, plan, job.signal);
  const write = () =>
    storePlaylists(storage, out, playlists, { ended: true, firstRung: rungs[0]?.name ?? '', segmentCount: 0 });
  // Under the film's lock: a chunk publishing the growing playlists must not write over the final ones.
  if (job.exclusive) {
    const done = await job.exclusive(write);
    if (done === undefined) throw new Error('the playlists are locked by another worker; retrying');
  } else await write();
  await job.progress(100);
  const audioStats = audioOut.map((a) => measureSegments(a.segments));
  const defaultIndex = Math.max(
    0,
    audioOut.findIndex((a) => a.entry.default),
  );
  const defaultAudio = audioStats[defaultIndex];
  return {
    masterPlaylistKey: keyUnder(out.prefix, 'master.m3u8'),
    durationSeconds: plan.durationSeconds,
    source: plan.source,
    renditions: rungs.map((r, i) => {
      const m = measureSegments(r.segments);
      const variant = playlists.variants[i] as VariantEntry;
      return {
        name: r.name,
        width: r.width,
        height: r.height,
        playlistKey: keyUnder(out.prefix, `${r.name}/index.m3u8`),
        bandwidth: variant.bandwidth,
        averageBandwidth: variant.averageBandwidth,
        // A copied rung's rate is the source's: what its segments measure.
        videoBitrate: plan.rungs[i]?.copied ? m.average : (plan.rungs[i]?.videoKbps ?? 0) * 1000,
        audioBitrate: !plan.audio.length
          ? 0
          : plan.audio[defaultIndex]?.copied
            ? (defaultAudio?.average ?? 0)
            : AUDIO_KBPS * 1000,
        segmentCount: m.segments,
        bytes: m.bytes + (defaultAudio?.bytes ?? 0),
      };
    }),
    audioTracks: plan.audio.map((a) => {
      const measured = audio?.loudness?.[a.folder];
      return {
        name: a.entry.name,
        language: a.entry.language ?? null,
        default: a.entry.default,
        sourceChannels: a.sourceChannels,
        copied: a.copied,
        copyRefusal: a.copyRefusal ?? null,
        loudness: measured ? loudnessOf(measured.source) : null,
        levelling:
          measured?.levelling && plan.audioSettings && plan.audioSettings.loudness !== null
            ? {
                targetLufs: plan.audioSettings.loudness,
                truePeakCeiling: plan.audioSettings.truePeak,
                gainDb: measured.levelling.gainDb,
                limited: measured.levelling.limited,
                ...(measured.storedTruePeak === undefined ? {} : { storedTruePeak: measured.storedTruePeak }),
                before: loudnessOf(measured.stereo),
              }
            : null,
        downmix: a.downmix ?? null,
        surround: a.surround
          ? {
              codec: audioCodec(a.surround.codec),
              channels: a.surround.entry.channels ?? 6,
              copied: a.surround.copied,
              playlistKey: keyUnder(out.prefix, a.surround.entry.uri),
            }
          : null,
        playlistKey: keyUnder(out.prefix, a.entry.uri),
      };
    }),
    ...(plan.hasStill ? { stillFrameKey: keyUnder(out.prefix, 'still.jpg') } : {}),
    ...thumbnails,
  };
}

/** A measurement as results carry it: silence's true peak (−∞) as null. */
const loudnessOf = (l: Loudness) => ({
  integrated: l.integrated,
  range: l.range,
  truePeak: Number.isFinite(l.truePeak) ? l.truePeak : null,
});

/** The segments ffmpeg wrote into `dir/<folder>/`, measured. */
async function segmentsIn(dir: string, folder: string): Promise<MeasuredSegment[]> {
  const playlist = parseMediaPlaylist(await readFile(join(dir, folder, 'index.m3u8'), 'utf8'));
  const out: MeasuredSegment[] = [];
  for (const seg of playlist.segments) {
    out.push({ uri: seg.uri, duration: seg.duration, bytes: (await stat(join(dir, folder, seg.uri))).size });
  }
  return out;
}

/**
 * A chunk's segments with their durations in whole frames: every segment is two GOPs but the
 * film's very last, which keeps what ffmpeg measured. (ffmpeg rounds a chunk's last segment
 * differently from one it cut itself, which would make a chunked playlist differ from a single
 * pass by a fraction of a millisecond.)
 */
function exactDurations(segments: MeasuredSegment[], chunk: Extract<TranscodePart, { kind: 'chunk' }>) {
  const { fps, span, copy } = chunk;
  const exact = Number((gopFrames(fps).segment / fps).toFixed(6));
  // Copied: segments start at the source's keyframes; the chunk's last ends where the next starts.
  if (copy) {
    const frames = (i: number) => (copy.segments[i + 1] ?? copy.end) - (copy.segments[i] as number);
    return segments.map((s, i) => ({ ...s, duration: Number((frames(i) / fps).toFixed(6)) }));
  }
  return segments.map((s, i) => (i === segments.length - 1 && span.endFrame === null ? s : { ...s, duration: exact }));
}

/**
 * One part of a transcode: a chunk (every rung of its span, and the thumbnails in it) or the
 * audio of the whole film. Segments go straight to their final keys; the result lists them
 * with their durations and sizes for the assembly and the growing playlists.
 */
export async function runTranscodePart(
  part: TranscodePart,
  job: Pick<JobContext, 'progress' | 'signal'>,
  storage: MediaStorage,
): Promise<PartOutput> {
  const { signal } = job;
  const out = part.output;
  return withLocalFile(storage, part.source, (input) =>
    withTempDir('part', async (work) => {
      const dir = join(work, 'hls');
      const thumbs = join(work, 'thumbs');
      await mkdir(dir);
      for (const sub of ['trickplay', 'frames']) await mkdir(join(thumbs, sub), { recursive: true });
      const folders =
        part.kind === 'chunk'
          ? part.rungs.map((r) => r.name)
          : part.tracks.flatMap((t) => [t.name, ...(t.surround ? [t.surround.name] : [])]);
      // The segment muxer of a copied rung does not make its folder.
      if (part.kind === 'chunk' && part.copy) await mkdir(join(dir, part.copy.rung));
      let loudness: PartOutput['loudness'];
      const frames = part.kind === 'chunk' ? part.span.frames : undefined;
      let last = 0;
      const encode = (args: string[]) =>
        run(tools.ffmpeg, args, {
          signal,
          onProgress: (f) => {
            if (frames === undefined) return;
            const pct = Math.min(99, (Number(f.get('frame') ?? 0) / frames) * 100);
            if (pct - last >= 5) {
              last = pct;
              void job.progress(pct).catch(() => undefined);
            }
          },
        });
      if (part.kind === 'chunk') await encode(chunkArgs(input, dir, thumbs, part));
      else {
        loudness = await measureTracks(input, part, signal);
        await encodeAudio(input, dir, part, loudness, encode, signal);
      }
      const renditions: Record<string, MeasuredSegment[]> = {};
      for (const folder of folders) {
        renditions[folder] = await segmentsIn(dir, folder);
        if (part.kind === 'chunk') {
          // A copied chunk reads past its end: the segments after its own are the next chunk's.
          const own = part.copy?.segments.length;
          if (own !== undefined && renditions[folder].length < own)
            throw new Error(`${folder}: ${renditions[folder].length} segments, not ${own}`);
          renditions[folder] = exactDurations(renditions[folder].slice(0, own), part);
        }
        for (const seg of renditions[folder]) {
          await storage.putFile(
            { bucket: out.bucket, key: keyUnder(out.prefix, `${folder}/${seg.uri}`) },
            join(dir, folder, seg.uri),
          );
        }
      }
      // Thumbnails under their final names: sprite frames where the sprite stage reads them, trickplay
      // frames where the assembly tiles them.
      for (const [sub, prefix] of [
        ['frames', 'frames/'],
        ['trickplay', 'trickplay/frames/'],
      ] as const) {
        for (const name of (await readdir(join(thumbs, sub))).filter((n) => /^frame_\d{5}\.jpg$/.test(n))) {
          await storage.putFile(
            { bucket: out.bucket, key: keyUnder(out.prefix, `${prefix}${name}`) },
            join(thumbs, sub, name),
          );
        }
      }
      await job.progress(100);
      return {
        kind: part.kind,
        index: part.kind === 'chunk' ? part.span.index : 0,
        renditions,
        ...(loudness ? { loudness } : {}),
      };
    }),
  );
}

/**
 * After a part has completed: publishes the film's growing playlists once its audio and the
 * first chunk of every rung are stored, and extends them as the chunks that follow in order
 * complete. Returns true when this call made the film playable (its first master).
 */
export async function publishGrowing(
  parent: PartParent,
  storage: MediaStorage,
  output: OutputLocation,
): Promise<boolean> {
  const published = await parent.exclusive(async () => {
    const plan = (await parent.plan()) as TranscodePlan | undefined;
    if (!plan) return false;
    const done = await parent.completedParts();
    const audio = done.get('audio') as PartOutput | undefined;
    if (plan.audio.length > 0 && !audio) return false;
    const chunks: PartOutput[] = [];
    for (let i = 0; i < plan.chunks; i++) {
      const c = done.get(chunkKey(i)) as PartOutput | undefined;
      if (!c) break;
      chunks.push(c);
    }
    if (chunks.length === 0 || chunks.length === plan.chunks) return false;
    const { rungs, audioOut, surroundOut } = filmSegments(plan, chunks, audio);
    const first = rungs[0];
    if (!first) return false;
    const hadMaster = await storage.stat({ bucket: output.bucket, key: keyUnder(output.prefix, 'master.m3u8') });
    const wrote = await storePlaylists(storage, output, filmPlaylists(rungs, audioOut, plan.fps, false, surroundOut), {
      ended: false,
      firstRung: first.name,
      segmentCount: first.segments.length,
    });
    return wrote && hadMaster === undefined;
  });
  return published === true;
}

/** Stores the thumbnails the chunks made: trickplay tiled as the trickplay job would, frames for sprites. */
async function storeThumbnails(
  storage: MediaStorage,
  output: OutputLocation,
  plan: TranscodePlan,
  signal: AbortSignal,
): Promise<Pick<JobResult<'video:transcode'>, 'trickplay' | 'frames'>> {
  const out: Pick<JobResult<'video:transcode'>, 'trickplay' | 'frames'> = {};
  const frameKeys = (prefix: string, count: number) =>
    Array.from({ length: count }, (_, i) => keyUnder(output.prefix, `${prefix}${frameName(i)}`));
  if (plan.trickplay) {
    const tp = plan.trickplay;
    await withTempDir('trickplay', async (dir) => {
      const keys = frameKeys('trickplay/frames/', tp.count);
      const stored = await storedSizes(storage, output, 'trickplay/frames');
      // The container can outlast the picture (audio a little longer): the last thumbnails then
      // have no frame of their own and repeat the last there is, as the fps filter would.
      let last: Buffer | undefined;
      for (const [i, key] of keys.entries()) {
        if (stored.has(key)) last = await storage.read({ bucket: output.bucket, key });
        if (!last) throw new Error(`no trickplay thumbnail was made for ${key}`);
        await writeFile(join(dir, frameName(i)), last);
      }
      // The thumbnails tiled into 10x10 sheets, as the trickplay job makes them.
      const sheets = join(dir, 'sheets');
      await mkdir(sheets);
      const tile = [...FFMPEG_PRELUDE, ...tileFramesInput(dir, GRID), ...sheetOutput(tp.sheetCount, sheets)];
      await run(tools.ffmpeg, tile, { signal });
      const prefix = keyUnder(output.prefix, 'trickplay/');
      out.trickplay = await storeTrickplay(storage, { bucket: output.bucket, prefix }, sheets, tp);
      for (const key of stored.keys()) await storage.remove({ bucket: output.bucket, key });
    });
  }
  if (plan.frames) {
    // Only frames that exist: the sprite stage reads each key it is given.
    const stored = await storedSizes(storage, output, 'frames');
    out.frames = {
      intervalSeconds: plan.frames.interval,
      width: GRID.width,
      height: GRID.height,
      keys: frameKeys('frames/', plan.frames.count).filter((key) => stored.has(key)),
    };
  }
  return out;
}
