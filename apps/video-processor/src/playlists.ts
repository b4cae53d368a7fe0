import type { OutputLocation } from '@nself-tv/queues';
import type { MediaStorage } from '@nself-tv/storage';
import { itemKey, keyUnder } from '@nself-tv/storage';
import { parseMediaPlaylist } from './hls.js';
import { MEDIA_PLAYLIST } from './hls-output.js';
import { type MediaEntry, masterPlaylist, SURROUND_GROUP, type VariantEntry } from './master.js';

/** One stored segment as a part measured it. */
export interface MeasuredSegment {
  uri: string;
  duration: number;
  bytes: number;
}

/** A media playlist of `segments`: growing (`EVENT`, no end) until `ended` (`VOD` with `#EXT-X-ENDLIST`). */
export function mediaPlaylist(segments: readonly MeasuredSegment[], ended: boolean): string {
  const target = Math.max(1, ...segments.map((s) => Math.round(s.duration)));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:6', `#EXT-X-TARGETDURATION:${target}`, '#EXT-X-MEDIA-SEQUENCE:0'];
  lines.push(`#EXT-X-PLAYLIST-TYPE:${ended ? 'VOD' : 'EVENT'}`, '#EXT-X-INDEPENDENT-SEGMENTS');
  // Players start a growing playlist at its live edge unless told otherwise; a film starts at its beginning.
  if (!ended) lines.push('#EXT-X-START:TIME-OFFSET=0,PRECISE=YES');
  for (const s of segments) lines.push(`#EXTINF:${s.duration.toFixed(6)},`, s.uri);
  if (ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

/** Peak and average bit rate (bit/s) and bytes of a rendition's segments. */
export function measureSegments(segments: readonly MeasuredSegment[]) {
  let bytes = 0;
  let seconds = 0;
  let peak = 0;
  for (const s of segments) {
    bytes += s.bytes;
    seconds += s.duration;
    if (s.duration > 0.5) peak = Math.max(peak, (s.bytes * 8) / s.duration);
  }
  const average = Math.round((bytes * 8) / Math.max(seconds, 0.001));
  return { bytes, average, peak: Math.max(Math.round(peak), average), segments: segments.length };
}

/** What one video rung and one audio track of a film are, for its playlists. */
export interface PublishedRung {
  name: string;
  width: number;
  height: number;
  codec: string;
  /** The rung's cap (bit/s): a growing master cannot know the peak yet, and says the most it can be. */
  capBitrate: number;
  segments: MeasuredSegment[];
}

export interface PublishedAudio {
  entry: MediaEntry;
  /** Its CODECS string (`mp4a.40.2`, `ac-3`, `ec-3`). */
  codec: string;
  segments: MeasuredSegment[];
}

/**
 * The master and media playlists of a film, growing or final, as `{ relative key: text }`. Every
 * rung is listed once with the stereo group and, when there is a `surround` group (each track's
 * multichannel rendition, or its stereo one), once more with that: a player that cannot decode
 * AC-3 keeps to the first set, one that can may take the second. Apple's HLS authoring spec asks
 * for one audio group per codec and each video variant repeated per group.
 */
export function filmPlaylists(
  rungs: readonly PublishedRung[],
  audio: readonly PublishedAudio[],
  fps: number,
  ended: boolean,
  surround: readonly PublishedAudio[] = [],
): { master: string; media: Map<string, string>; variants: VariantEntry[] } {
  const media = new Map<string, string>();
  const variantsWith = (group: readonly PublishedAudio[], groupId: string | undefined) => {
    const stats = group.map((a) => measureSegments(a.segments));
    const audioPeak = Math.max(0, ...stats.map((s) => s.peak));
    const defaultAudio =
      stats[
        Math.max(
          0,
          group.findIndex((a) => a.entry.default),
        )
      ];
    const codecs = [...new Set(group.map((a) => a.codec))];
    return rungs.map((r): VariantEntry => {
      const m = measureSegments(r.segments);
      // A variant's bandwidth counts the audio a player fetches with it.
      const peak = ended ? m.peak : Math.max(m.peak, r.capBitrate);
      return {
        uri: `${r.name}/${MEDIA_PLAYLIST}`,
        bandwidth: peak + audioPeak,
        averageBandwidth: m.average + (defaultAudio?.average ?? 0),
        width: r.width,
        height: r.height,
        codecs: [r.codec, ...codecs].join(','),
        fps,
        ...(groupId ? { audioGroup: groupId } : {}),
      };
    });
  };
  for (const r of rungs) media.set(`${r.name}/${MEDIA_PLAYLIST}`, mediaPlaylist(r.segments, ended));
  for (const a of [...audio, ...surround]) media.set(a.entry.uri, mediaPlaylist(a.segments, true));
  const variants = variantsWith(audio, undefined);
  const all = surround.length ? [...variants, ...variantsWith(surround, SURROUND_GROUP)] : variants;
  return {
    master: masterPlaylist(
      all,
      audio.map((a) => a.entry),
      [],
      surround.map((a) => a.entry),
    ),
    media,
    variants,
  };
}

/**
 * Writes a film's playlists under `output`: media playlists first, the master last, so a
 * reader that sees the master finds everything it names. A growing film is only written when
 * it has more segments than what is stored (never fewer, never over a finished one), so a
 * player never sees a playlist shrink; callers serialise writes (one lock per film).
 */
export async function storePlaylists(
  storage: MediaStorage,
  output: OutputLocation,
  playlists: ReturnType<typeof filmPlaylists>,
  options: { ended: boolean; firstRung: string; segmentCount: number },
): Promise<boolean> {
  if (!options.ended) {
    const key = { bucket: output.bucket, key: keyUnder(output.prefix, `${options.firstRung}/${MEDIA_PLAYLIST}`) };
    const stored = await storage
      .read(key)
      .then((b) => parseMediaPlaylist(b.toString('utf8')))
      .catch(() => undefined);
    if (stored && (stored.ended || stored.segments.length >= options.segmentCount)) return false;
  }
  for (const [rel, text] of playlists.media) {
    await storage.write({ bucket: output.bucket, key: keyUnder(output.prefix, rel) }, text);
  }
  await storage.write({ bucket: output.bucket, key: itemKey(output.prefix, 'master') }, playlists.master);
  return true;
}
