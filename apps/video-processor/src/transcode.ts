import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { checkFrameSize, inputArgs, keyUnder, probe, run, tools } from '@nself-tv/media-tools';
import { type JobContext, type JobResult, type Payload, UnrecoverableError } from '@nself-tv/queues';
import { type MediaStorage, withTempDir } from '@nself-tv/storage';
import type { WorkerLimits } from '@nself-tv/worker-http';
import { parseMediaPlaylist } from './hls.js';
import { type PlannedRendition, planLadder } from './ladder.js';

const SEGMENT_SECONDS = 4;
const AUDIO_KBPS = 128;

/** H.264 level per rung and the matching `avc1` CODECS string (High profile). */
function level(r: PlannedRendition): { level: string; codec: string } {
  const pixels = r.width * r.height;
  if (pixels > 1920 * 1088) return { level: '5.2', codec: 'avc1.640034' };
  if (pixels > 1280 * 720) return { level: '4.2', codec: 'avc1.64002a' };
  return { level: '3.2', codec: 'avc1.640020' };
}

/** The single ffmpeg command: one decode, split to every rung, HLS VOD with aligned 2 s GOPs. */
export function transcodeArgs(
  input: string,
  out: string,
  plan: PlannedRendition[],
  fps: number,
  hasAudio: boolean,
): string[] {
  const gop = Math.max(1, Math.round(fps * 2));
  const split = `[0:v:0]split=${plan.length}${plan.map((_, i) => `[s${i}]`).join('')}`;
  const scales = plan.map((r, i) => `[s${i}]scale=${r.width}:${r.height}:flags=bicubic,setsar=1[o${i}]`);
  const args = ['-hide_banner', '-nostdin', '-y', ...inputArgs(input), '-filter_complex', [split, ...scales].join(';')];
  plan.forEach((r, i) => {
    args.push('-map', `[o${i}]`);
    if (hasAudio) args.push('-map', '0:a:0');
    args.push(
      `-b:v:${i}`,
      `${r.videoKbps}k`,
      `-maxrate:v:${i}`,
      `${Math.round(r.videoKbps * 1.1)}k`,
      `-bufsize:v:${i}`,
      `${r.videoKbps * 2}k`,
      `-level:v:${i}`,
      level(r).level,
    );
  });
  args.push(
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-profile:v',
    'high',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(gop),
    '-keyint_min',
    String(gop),
    '-sc_threshold',
    '0',
  );
  if (hasAudio) args.push('-c:a', 'aac', '-b:a', `${AUDIO_KBPS}k`, '-ac', '2');
  args.push(
    '-f',
    'hls',
    '-hls_time',
    String(SEGMENT_SECONDS),
    '-hls_playlist_type',
    'vod',
    '-hls_flags',
    'independent_segments',
    '-hls_segment_filename',
    join(out, '%v', 'seg_%03d.ts'),
    '-var_stream_map',
    plan.map((r, i) => (hasAudio ? `v:${i},a:${i},name:${r.name}` : `v:${i},name:${r.name}`)).join(' '),
    '-progress',
    'pipe:1',
    '-nostats',
    join(out, '%v', 'index.m3u8'),
  );
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

/**
 * Writes one JPEG of the video at `seconds` (inside the video stream's own
 * length), or at its first frame when that seek finds none; resolves `false`
 * when the video yields no frame at all.
 */
async function stillFrame(input: string, out: string, seconds: number, signal: AbortSignal): Promise<boolean> {
  for (const at of seconds > 0 ? [seconds, 0] : [0]) {
    const args = ['-hide_banner', '-nostdin', '-y', '-ss', at.toFixed(3), ...inputArgs(input)];
    await run(tools.ffmpeg, [...args, '-map', '0:v:0', '-frames:v', '1', '-q:v', '2', out], { signal });
    if (
      await stat(out).then(
        (s) => s.size > 0,
        () => false,
      )
    )
      return true;
  }
  return false;
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
  const input = await storage.localPath(payload.source);
  const info = await probe(input, signal);
  if (!info.video) throw new UnrecoverableError('source has no video stream');
  checkFrameSize(info, limits.maxVideoPixels, `${payload.source.bucket}/${payload.source.key}`);
  if (!(info.durationSeconds > 0)) throw new UnrecoverableError('source has no duration');
  const video = info.video;
  await job.progress(100, 'probe');
  const plan = planLadder(video.width, video.height, payload.renditions);
  if (plan.length === 0)
    throw new UnrecoverableError(
      `none of ${payload.renditions?.join(', ')} fits a ${video.width}x${video.height} source`,
    );

  return withTempDir('transcode', async (dir) => {
    let last = 0;
    // A tenth into the video stream itself: the file can last longer (audio running on).
    const stillAt = video.durationSeconds * 0.1;
    const stillPath = join(dir, 'still.jpg');
    // The still frame is a short seek-and-decode; run it beside the encode rather than after it.
    const [, hasStill] = await Promise.all([
      run(tools.ffmpeg, transcodeArgs(input, dir, plan, video.fps, info.audio !== undefined), {
        signal,
        onProgress: (f) => {
          const us = Number(f.get('out_time_us') ?? f.get('out_time_ms') ?? 0);
          const pct = Math.min(99, (us / 1e6 / info.durationSeconds) * 100);
          if (pct - last >= 1) {
            last = pct;
            void job.progress(pct).catch(() => undefined);
          }
        },
      }),
      stillFrame(input, stillPath, stillAt, signal),
    ]);

    const renditions: JobResult<'video:transcode'>['renditions'] = [];
    const master = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-INDEPENDENT-SEGMENTS'];
    for (const r of plan) {
      const playlist = parseMediaPlaylist(await readFile(join(dir, r.name, 'index.m3u8'), 'utf8'));
      let bytes = 0;
      let peak = 0;
      let seconds = 0;
      for (const seg of playlist.segments) {
        const size = (await stat(join(dir, r.name, seg.uri))).size;
        bytes += size;
        seconds += seg.duration;
        if (seg.duration > 0.5) peak = Math.max(peak, (size * 8) / seg.duration);
      }
      const average = Math.round((bytes * 8) / Math.max(seconds, 0.001));
      const bandwidth = Math.max(Math.round(peak), average);
      const codecs = info.audio ? `${level(r).codec},mp4a.40.2` : level(r).codec;
      master.push(
        `#EXT-X-STREAM-INF:BANDWIDTH=${bandwidth},AVERAGE-BANDWIDTH=${average},RESOLUTION=${r.width}x${r.height},CODECS="${codecs}",FRAME-RATE=${video.fps.toFixed(3)}`,
        `${r.name}/index.m3u8`,
      );
      renditions.push({
        name: r.name,
        width: r.width,
        height: r.height,
        playlistKey: keyUnder(payload.output.prefix, `${r.name}/index.m3u8`),
        bandwidth,
        averageBandwidth: average,
        videoBitrate: r.videoKbps * 1000,
        audioBitrate: info.audio ? AUDIO_KBPS * 1000 : 0,
        segmentCount: playlist.segments.length,
        bytes,
      });
    }
    await writeFile(join(dir, 'master.m3u8'), `${master.join('\n')}\n`);

    // Segments and rendition playlists first, the master last: a reader that sees the master finds everything it names.
    const files = (await filesUnder(dir)).sort(
      (a, b) => Number(a.endsWith('master.m3u8')) - Number(b.endsWith('master.m3u8')),
    );
    for (const file of files) {
      const rel = relative(dir, file).split(sep).join('/');
      await storage.putFile({ bucket: payload.output.bucket, key: keyUnder(payload.output.prefix, rel) }, file);
    }
    await job.progress(100);
    return {
      masterPlaylistKey: keyUnder(payload.output.prefix, 'master.m3u8'),
      durationSeconds: info.durationSeconds,
      source: { width: video.width, height: video.height, codec: video.codec, hasAudio: info.audio !== undefined },
      renditions,
      ...(hasStill ? { stillFrameKey: keyUnder(payload.output.prefix, 'still.jpg') } : {}),
    };
  });
}
