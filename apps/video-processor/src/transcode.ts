import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import {
  type AudioTrack,
  BT709_TAGS,
  checkFrameSize,
  inputArgs,
  interlacing,
  keyUnder,
  type Matrix,
  type MediaInfo,
  matrixOf,
  pictureFilters,
  probe,
  run,
  scaleTo,
  tools,
  type VideoInfo,
} from '@nself-tv/media-tools';
import {
  type JobContext,
  type JobResult,
  type OutputLocation,
  type Payload,
  UnrecoverableError,
} from '@nself-tv/queues';
import { type MediaStorage, withLocalFile, withTempDir } from '@nself-tv/storage';
import type { WorkerLimits } from '@nself-tv/worker-http';
import { parseMediaPlaylist } from './hls.js';
import { type PlannedRendition, planLadder } from './ladder.js';
import { hlsLanguage, type MediaEntry, masterPlaylist, oneDefault, trackName, uniqueNames } from './master.js';
import {
  GRID,
  planThumbnails,
  sheetOutput,
  storeTrickplay,
  type ThumbnailPlan,
  thumbnailFilters,
} from './trickplay.js';

const SEGMENT_SECONDS = 4;
const AUDIO_KBPS = 128;

/** H.264 level per rung and the matching `avc1` CODECS string (High profile). */
function level(r: PlannedRendition): { level: string; codec: string } {
  const pixels = r.width * r.height;
  if (pixels > 1920 * 1088) return { level: '5.2', codec: 'avc1.640034' };
  if (pixels > 1280 * 720) return { level: '4.2', codec: 'avc1.64002a' };
  return { level: '3.2', codec: 'avc1.640020' };
}

/** Folder (and HLS variant name) of audio track `i`. */
export const audioName = (track: AudioTrack, i: number) => `audio_${hlsLanguage(track.language) ?? 'und'}_${i}`;

/** Everything the single ffmpeg command needs to know about the source. */
export interface TranscodeSource {
  video: Pick<VideoInfo, 'index' | 'fps' | 'width' | 'height'>;
  /** Filters between the decoder and the rung scalers (`pictureFilters`). */
  picture: string[];
  /** The YUV matrix those filters leave the picture in (`matrixOf`). */
  matrix: Matrix;
  audio: AudioTrack[];
  /** Thumbnails from the same decode: trickplay sheets and/or sprite frames, into their folders. */
  trickplay?: { plan: ThumbnailPlan; dir: string } | undefined;
  frames?: { plan: ThumbnailPlan; dir: string } | undefined;
}

/**
 * The single ffmpeg command: one decode of the chosen video stream, turned
 * upright / deinterlaced / tone-mapped once, split to every rung and scaled
 * to square pixels; every audio track encoded once to stereo AAC as its own
 * HLS rendition; aligned 2 s GOPs; BT.709 tags on every rung.
 */
export function transcodeArgs(input: string, out: string, plan: PlannedRendition[], source: TranscodeSource): string[] {
  const fps = source.video.fps;
  const gop = Math.max(1, Math.round(fps * 2));
  // One decode and one picture chain, split to every rung and to the thumbnail outputs.
  const extras = [...(source.trickplay ? [`[tp]`] : []), ...(source.frames ? [`[fr]`] : [])];
  const chain = [...source.picture, `split=${plan.length + extras.length}`].join(',');
  const split = `[0:${source.video.index}]${chain}${plan.map((_, i) => `[s${i}]`).join('')}${extras.join('')}`;
  const graph = [split, ...plan.map((r, i) => `[s${i}]${scaleTo(r.width, r.height, source.matrix)}[o${i}]`)];
  // Thumbnails leave the graph one by one (tiled afterwards): an output that emitted nothing until
  // a sheet is full would hold back ffmpeg's progress reports for the whole encode.
  if (source.trickplay)
    graph.push(`[tp]${thumbnailFilters(source.trickplay.plan.interval, source.video, source.matrix).join(',')}[tpo]`);
  if (source.frames)
    graph.push(`[fr]${thumbnailFilters(source.frames.plan.interval, source.video, source.matrix).join(',')}[fro]`);
  const args = ['-hide_banner', '-nostdin', '-y', '-noautorotate', ...inputArgs(input)];
  args.push('-filter_complex', graph.join(';'));
  plan.forEach((r, i) => {
    args.push('-map', `[o${i}]`);
    args.push(`-b:v:${i}`, `${r.videoKbps}k`, `-maxrate:v:${i}`, `${Math.round(r.videoKbps * 1.1)}k`);
    args.push(`-bufsize:v:${i}`, `${r.videoKbps * 2}k`, `-level:v:${i}`, level(r).level);
  });
  for (const track of source.audio) args.push('-map', `0:${track.index}`);
  args.push('-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p', ...BT709_TAGS);
  args.push('-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0');
  // swresample's stereo downmix: centre and surrounds at -3 dB, LFE left out, normalised so it cannot clip.
  if (source.audio.length) args.push('-c:a', 'aac', '-b:a', `${AUDIO_KBPS}k`, '-ac', '2');
  const streams = [
    ...plan.map((r, i) => `v:${i},name:${r.name}`),
    ...source.audio.map((t, i) => `a:${i},name:${audioName(t, i)}`),
  ];
  args.push('-f', 'hls', '-hls_time', String(SEGMENT_SECONDS), '-hls_playlist_type', 'vod');
  args.push('-hls_flags', 'independent_segments', '-hls_segment_filename', join(out, '%v', 'seg_%03d.ts'));
  args.push('-var_stream_map', streams.join(' '), '-progress', 'pipe:1', '-nostats', join(out, '%v', 'index.m3u8'));
  for (const [label, job, quality] of [
    ['[tpo]', source.trickplay, '2'],
    ['[fro]', source.frames, '3'],
  ] as const) {
    if (!job) continue;
    args.push('-map', label, '-frames:v', String(job.plan.count), '-q:v', quality, '-start_number', '0');
    args.push('-f', 'image2', join(job.dir, 'frame_%05d.jpg'));
  }
  return args;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else out.push(full);
  }
  return out;
}

/** Peak and average bitrate of a rendition's segments, in bit/s, and its bytes. */
async function measure(dir: string, name: string) {
  const playlist = parseMediaPlaylist(await readFile(join(dir, name, 'index.m3u8'), 'utf8'));
  let bytes = 0;
  let peak = 0;
  let seconds = 0;
  for (const seg of playlist.segments) {
    const size = (await stat(join(dir, name, seg.uri))).size;
    bytes += size;
    seconds += seg.duration;
    if (seg.duration > 0.5) peak = Math.max(peak, (size * 8) / seg.duration);
  }
  const average = Math.round((bytes * 8) / Math.max(seconds, 0.001));
  return { bytes, average, peak: Math.max(Math.round(peak), average), segments: playlist.segments.length };
}

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
    const args = ['-hide_banner', '-nostdin', '-y', '-noautorotate', '-ss', at.toFixed(3), ...inputArgs(input)];
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
function describe(info: MediaInfo, video: VideoInfo, deinterlaced: boolean) {
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
  };
}

/** The `video:transcode` processor. */
export async function transcode(
  payload: Payload<'video:transcode'>,
  job: Pick<JobContext, 'progress' | 'signal'>,
  storage: MediaStorage,
  limits: WorkerLimits,
): Promise<JobResult<'video:transcode'>> {
  const signal = job.signal;
  await job.progress(0, 'probe');
  return withLocalFile(storage, payload.source, async (input) => {
    const info = await probe(input, signal);
    if (!info.video) throw new UnrecoverableError('source has no video stream');
    checkFrameSize(info, limits.maxVideoPixels, `${payload.source.bucket}/${payload.source.key}`);
    if (!(info.durationSeconds > 0)) throw new UnrecoverableError('source has no duration');
    const video = info.video;
    const deinterlace = await interlacing(input, video, signal);
    await job.progress(100, 'probe');
    const plan = planLadder(video.width, video.height, payload.renditions);
    if (plan.length === 0)
      throw new UnrecoverableError(
        `none of ${payload.renditions?.join(', ')} fits a ${video.width}x${video.height} source`,
      );
    const picture = pictureFilters(video, { deinterlace, constantRate: true });
    const stillPicture = pictureFilters(video, { deinterlace, constantRate: false });
    const audio = info.audioTracks;
    const asked = payload.thumbnails;

    return withTempDir('transcode', async (work) => {
      let last = 0;
      // What goes under the output prefix as it is (HLS, still), and thumbnails stored on their own.
      const dir = join(work, 'hls');
      const thumbs = join(work, 'thumbs');
      await mkdir(dir);
      const stillPath = join(dir, 'still.jpg');
      const trickplayJob =
        asked?.trickplayIntervalSeconds === undefined
          ? undefined
          : {
              plan: planThumbnails(info.durationSeconds, asked.trickplayIntervalSeconds),
              dir: join(thumbs, 'trickplay'),
            };
      const framesJob =
        asked?.frameIntervalSeconds === undefined
          ? undefined
          : { plan: planThumbnails(info.durationSeconds, asked.frameIntervalSeconds), dir: join(thumbs, 'frames') };
      for (const j of [trickplayJob, framesJob]) if (j) await mkdir(j.dir, { recursive: true });
      const source = { video, picture, matrix: matrixOf(video), audio, trickplay: trickplayJob, frames: framesJob };
      // The still frame is a short seek-and-decode; run it beside the encode rather than after it.
      const [, hasStill] = await Promise.all([
        run(tools.ffmpeg, transcodeArgs(input, dir, plan, source), {
          signal,
          onProgress: (f) => {
            // Frames of the first rung: ffmpeg's out_time follows the slowest output, and the
            // trickplay sheets only appear every hundred thumbnails.
            const seconds = Number(f.get('frame') ?? 0) / video.fps;
            const pct = Math.min(99, (seconds / info.durationSeconds) * 100);
            if (pct - last >= 1) {
              last = pct;
              void job.progress(pct).catch(() => undefined);
            }
          },
        }),
        stillFrame(input, stillPath, video, stillPicture, signal),
      ]);

      const audioEntries: MediaEntry[] = uniqueNames(
        oneDefault(
          audio.map((t, i) => {
            const language = hlsLanguage(t.language);
            return {
              uri: `${audioName(t, i)}/index.m3u8`,
              language,
              name: trackName(t.title, language, `Audio ${i + 1}`),
              default: t.default,
              channels: 2,
            };
          }),
        ),
      );
      const audioStats = await Promise.all(audio.map((t, i) => measure(dir, audioName(t, i))));
      const audioPeak = Math.max(0, ...audioStats.map((s) => s.peak));
      const defaultAudio =
        audioStats[
          Math.max(
            0,
            audioEntries.findIndex((e) => e.default),
          )
        ];

      const renditions: JobResult<'video:transcode'>['renditions'] = [];
      const variants = [];
      for (const r of plan) {
        const m = await measure(dir, r.name);
        // A variant's bandwidth counts the audio a player fetches with it.
        const bandwidth = m.peak + audioPeak;
        const average = m.average + (defaultAudio?.average ?? 0);
        variants.push({
          uri: `${r.name}/index.m3u8`,
          bandwidth,
          averageBandwidth: average,
          width: r.width,
          height: r.height,
          codecs: audio.length ? `${level(r).codec},mp4a.40.2` : level(r).codec,
          fps: video.fps,
        });
        renditions.push({
          name: r.name,
          width: r.width,
          height: r.height,
          playlistKey: keyUnder(payload.output.prefix, `${r.name}/index.m3u8`),
          bandwidth,
          averageBandwidth: average,
          videoBitrate: r.videoKbps * 1000,
          audioBitrate: audio.length ? AUDIO_KBPS * 1000 : 0,
          segmentCount: m.segments,
          bytes: m.bytes + (defaultAudio?.bytes ?? 0),
        });
      }
      await writeFile(join(dir, 'master.m3u8'), masterPlaylist(variants, audioEntries));
      const thumbnails = await storeThumbnails(storage, payload.output, trickplayJob, framesJob, signal);

      // Segments and rendition playlists first, the master last: a reader that sees the master finds everything it names.
      const files = (await filesUnder(dir)).sort(
        (a, b) => Number(a.endsWith('master.m3u8')) - Number(b.endsWith('master.m3u8')),
      );
      for (const file of files) {
        if (file === stillPath && !hasStill) continue;
        const rel = relative(dir, file).split(sep).join('/');
        await storage.putFile({ bucket: payload.output.bucket, key: keyUnder(payload.output.prefix, rel) }, file);
      }
      await job.progress(100);
      return {
        masterPlaylistKey: keyUnder(payload.output.prefix, 'master.m3u8'),
        durationSeconds: info.durationSeconds,
        source: describe(info, video, deinterlace !== false),
        renditions,
        audioTracks: audioEntries.map((e, i) => ({
          name: e.name,
          language: e.language ?? null,
          default: e.default,
          sourceChannels: audio[i]?.channels ?? 2,
          playlistKey: keyUnder(payload.output.prefix, e.uri),
        })),
        ...(hasStill ? { stillFrameKey: keyUnder(payload.output.prefix, 'still.jpg') } : {}),
        ...thumbnails,
      };
    });
  });
}

/** Stores the thumbnails made beside the ladder: trickplay as the trickplay job would, frames for sprites. */
async function storeThumbnails(
  storage: MediaStorage,
  output: OutputLocation,
  trickplayJob: { plan: ThumbnailPlan; dir: string } | undefined,
  framesJob: { plan: ThumbnailPlan; dir: string } | undefined,
  signal: AbortSignal,
): Promise<Pick<JobResult<'video:transcode'>, 'trickplay' | 'frames'>> {
  const out: Pick<JobResult<'video:transcode'>, 'trickplay' | 'frames'> = {};
  if (trickplayJob) {
    // The thumbnails tiled into 10x10 sheets, as the trickplay job makes them.
    const sheets = join(trickplayJob.dir, 'sheets');
    await mkdir(sheets);
    const tile = ['-hide_banner', '-nostdin', '-y', '-f', 'image2', '-framerate', '1', '-start_number', '0'];
    tile.push('-i', join(trickplayJob.dir, 'frame_%05d.jpg'), '-vf', `tile=${GRID.columns}x${GRID.rows}`);
    await run(tools.ffmpeg, [...tile, ...sheetOutput(trickplayJob.plan, sheets)], { signal });
    const prefix = keyUnder(output.prefix, 'trickplay/');
    out.trickplay = await storeTrickplay(storage, { bucket: output.bucket, prefix }, sheets, trickplayJob.plan);
  }
  if (framesJob) {
    const names = (await readdir(framesJob.dir)).filter((n) => /^frame_\d{5}\.jpg$/.test(n)).sort();
    const keys: string[] = [];
    for (const name of names) {
      const key = keyUnder(output.prefix, `frames/${name}`);
      await storage.putFile({ bucket: output.bucket, key }, join(framesJob.dir, name));
      keys.push(key);
    }
    out.frames = { intervalSeconds: framesJob.plan.interval, width: GRID.width, height: GRID.height, keys };
  }
  return out;
}
