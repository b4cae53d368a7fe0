// The run after a transcode's parts: what they stored checked, the trickplay tiled, the final
// playlists written and the result measured; and the segments of the film so far, which the growing
// playlists share.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FFMPEG_PRELUDE, frameName, run, sheetOutput, tileFramesInput, tools } from '@nself-tv/media-tools';
import type { JobContext, JobResult, OutputLocation, Payload } from '@nself-tv/queues';
import { ITEM_LAYOUT, itemKey, keyUnder, type MediaStorage, withTempDir } from '@nself-tv/storage';
import { AUDIO_KBPS, audioCodec, type Loudness } from './audio.js';
import { capKbps, level } from './chunks.js';
import { MEDIA_PLAYLIST } from './hls-output.js';
import type { VariantEntry } from './master.js';
import { filmPlaylists, measureSegments, storePlaylists } from './playlists.js';
import type { PartOutput, TranscodePlan } from './transcode-plan.js';
import { GRID, storeTrickplay, TRICKPLAY_FRAMES } from './trickplay.js';

/** Every rung's and audio track's segments, in film order, from the chunks given (a prefix, or all). */
export function filmSegments(plan: TranscodePlan, chunks: readonly PartOutput[], audio: PartOutput | undefined) {
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
export async function assemble(
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
    masterPlaylistKey: itemKey(out.prefix, 'master'),
    durationSeconds: plan.durationSeconds,
    source: plan.source,
    renditions: rungs.map((r, i) => {
      const m = measureSegments(r.segments);
      const variant = playlists.variants[i] as VariantEntry;
      return {
        name: r.name,
        width: r.width,
        height: r.height,
        playlistKey: keyUnder(out.prefix, `${r.name}/${MEDIA_PLAYLIST}`),
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
        copyRefusal: a.copyRefusal,
        loudness: measured ? loudnessOf(measured.source) : null,
        levelling:
          measured?.levelling && plan.audioSettings.loudness !== null
            ? {
                targetLufs: plan.audioSettings.loudness,
                truePeakCeiling: plan.audioSettings.truePeak,
                gainDb: measured.levelling.gainDb,
                limited: measured.levelling.limited,
                ...(measured.storedTruePeak === undefined ? {} : { storedTruePeak: measured.storedTruePeak }),
                before: loudnessOf(measured.stereo),
              }
            : null,
        downmix: a.downmix,
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
    ...(plan.hasStill ? { stillFrameKey: itemKey(out.prefix, 'still') } : {}),
    ...thumbnails,
  };
}

/** A measurement as results carry it: silence's true peak (−∞) as null. */
const loudnessOf = (l: Loudness) => ({
  integrated: l.integrated,
  range: l.range,
  truePeak: Number.isFinite(l.truePeak) ? l.truePeak : null,
});

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
      const keys = frameKeys(TRICKPLAY_FRAMES, tp.count);
      const stored = await storedSizes(storage, output, TRICKPLAY_FRAMES.slice(0, -1));
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
      const prefix = itemKey(output.prefix, 'trickplay');
      out.trickplay = await storeTrickplay(storage, { bucket: output.bucket, prefix }, sheets, tp);
      for (const key of stored.keys()) await storage.remove({ bucket: output.bucket, key });
    });
  }
  if (plan.frames) {
    // Only frames that exist: the sprite stage reads each key it is given.
    const stored = await storedSizes(storage, output, ITEM_LAYOUT.frames.path.slice(0, -1));
    out.frames = {
      intervalSeconds: plan.frames.interval,
      width: GRID.width,
      height: GRID.height,
      keys: frameKeys(ITEM_LAYOUT.frames.path, plan.frames.count).filter((key) => stored.has(key)),
    };
  }
  return out;
}
