// Probing a source for its transcode: what it is, whether it can be transcoded at all, its still
// frame, and whether its own video can be the top rung as it is.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkFrameSize,
  ffmpegInput,
  h264Sps,
  interlacing,
  MediaError,
  type MediaInfo,
  type MediaLimits,
  matrixOf,
  pictureFilters,
  probe,
  run,
  scaleTo,
  tools,
  type VideoInfo,
  videoPackets,
} from '@nself-tv/media-tools';
import { type OutputLocation, type Payload, PayloadError } from '@nself-tv/queues';
import { ITEM_LAYOUT, itemKey, type MediaStorage, withTempDir } from '@nself-tv/storage';
import { SEGMENT_SECONDS } from './chunks.js';
import { type CopyPlan, type CopyRefusal, planCopy, streamRefusals } from './copy.js';
import { type PlannedRendition, planLadder } from './ladder.js';

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
export function describe(
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

/**
 * Whether the top rung is the source's own video, copied: the stream-level conditions first (what
 * the probe says), then, when they hold, its packets (constant rate, keyframes, closed GOPs).
 */
export async function copyDecision(
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

/** What the plan is made from: the probed source, its picture, and the rungs it can give. */
export interface ProbedSource {
  info: MediaInfo;
  video: VideoInfo;
  deinterlace: Awaited<ReturnType<typeof interlacing>>;
  ladder: ReturnType<typeof planLadder>;
}

/** Step 1: probes the source and refuses what cannot be transcoded (no video, too large, no rung fits). */
export async function probeSource(
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
export function storeStill(
  input: string,
  { video, deinterlace }: ProbedSource,
  output: OutputLocation,
  storage: MediaStorage,
  signal: AbortSignal,
): Promise<boolean> {
  return withTempDir('still', async (dir) => {
    const still = join(dir, ITEM_LAYOUT.still.path);
    const made = await stillFrame(
      input,
      still,
      video,
      pictureFilters(video, { deinterlace, constantRate: false }),
      signal,
    );
    if (made) await storage.putFile({ bucket: output.bucket, key: itemKey(output.prefix, 'still') }, still);
    return made;
  });
}
