// One part of a transcode run: a chunk of every rung (and its thumbnails) or the film's audio.
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { progressOf, run, tools } from '@nself-tv/media-tools';
import type { JobContext } from '@nself-tv/queues';
import { ITEM_LAYOUT, keyUnder, type MediaStorage, withLocalFile, withTempDir } from '@nself-tv/storage';
import { encodeAudio, measureTracks } from './audio-part.js';
import { chunkArgs, gopFrames } from './chunks.js';
import { parseMediaPlaylist } from './hls.js';
import { MEDIA_PLAYLIST } from './hls-output.js';
import type { MeasuredSegment } from './playlists.js';
import type { PartOutput, TranscodePart } from './transcode-plan.js';
import { TRICKPLAY_FRAMES } from './trickplay.js';

/** The segments ffmpeg wrote into `dir/<folder>/`, measured. */
async function segmentsIn(dir: string, folder: string): Promise<MeasuredSegment[]> {
  const playlist = parseMediaPlaylist(await readFile(join(dir, folder, MEDIA_PLAYLIST), 'utf8'));
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
            const pct = Math.min(99, progressOf(f, { frames }) * 100);
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
        ['frames', ITEM_LAYOUT.frames.path],
        ['trickplay', TRICKPLAY_FRAMES],
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
