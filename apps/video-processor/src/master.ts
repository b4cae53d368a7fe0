import { languageName } from './languages.js';
/**
 * The master playlist: video variants that reference one audio group (each
 * audio track an `EXT-X-MEDIA:TYPE=AUDIO` rendition) and, once the subtitle
 * stage has run, one subtitles group. Written by the transcode, rewritten
 * (atomically) by the subtitle stage.
 */

/** A video variant line. */
export interface VariantEntry {
  uri: string;
  bandwidth: number;
  averageBandwidth: number;
  width: number;
  height: number;
  codecs: string;
  fps: number;
  /** Its audio group, when not the stereo one. */
  audioGroup?: string;
}

/** An alternate rendition (`EXT-X-MEDIA`). */
export interface MediaEntry {
  uri: string;
  language: string | undefined;
  name: string;
  default: boolean;
  forced?: boolean;
  /** Subtitles for the deaf and hard of hearing: listed with the accessibility CHARACTERISTICS. */
  hearingImpaired?: boolean;
  /** Audio only: channel count of the rendition. */
  channels?: number;
}

export const AUDIO_GROUP = 'audio';
export const SUBTITLE_GROUP = 'subs';
/** The group of multichannel renditions (AC-3/E-AC-3), each track's stereo one where it has none. */
export const SURROUND_GROUP = 'audio-mc';

/** A name a person can read: the track's title, else its language in English, else `fallback`. */
export function trackName(title: string | undefined, language: string | undefined, fallback: string): string {
  const clean = title?.replace(/["\r\n]/g, '').trim();
  if (clean) return clean;
  return (language && languageName(language)) ?? fallback;
}

/** Names must be unique within a group: a repeat gets its position (`English (2)`). */
export function uniqueNames<T extends { name: string }>(entries: T[]): T[] {
  const seen = new Map<string, number>();
  return entries.map((e) => {
    const n = (seen.get(e.name) ?? 0) + 1;
    seen.set(e.name, n);
    return n === 1 ? e : { ...e, name: `${e.name} (${n})` };
  });
}

/** Exactly one default: the flagged one, else the first. */
export function oneDefault<T extends { default: boolean }>(entries: T[]): T[] {
  const at = Math.max(
    0,
    entries.findIndex((e) => e.default),
  );
  return entries.map((e, i) => ({ ...e, default: i === at }));
}

/** What Apple's HLS authoring spec names subtitles for the deaf and hard of hearing. */
const SDH_CHARACTERISTICS =
  'public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound';

const quoted = (value: string) => `"${value.replace(/"/g, "'")}"`;

function mediaLine(type: 'AUDIO' | 'SUBTITLES', group: string, entry: MediaEntry): string {
  const attrs = [`TYPE=${type}`, `GROUP-ID=${quoted(group)}`];
  if (entry.language) attrs.push(`LANGUAGE=${quoted(entry.language)}`);
  attrs.push(`NAME=${quoted(entry.name)}`, `DEFAULT=${entry.default ? 'YES' : 'NO'}`, 'AUTOSELECT=YES');
  if (type === 'SUBTITLES') attrs.push(`FORCED=${entry.forced ? 'YES' : 'NO'}`);
  if (entry.hearingImpaired) attrs.push(`CHARACTERISTICS=${quoted(SDH_CHARACTERISTICS)}`);
  if (entry.channels !== undefined) attrs.push(`CHANNELS=${quoted(String(entry.channels))}`);
  attrs.push(`URI=${quoted(entry.uri)}`);
  return `#EXT-X-MEDIA:${attrs.join(',')}`;
}

/** The whole master playlist. */
export function masterPlaylist(
  variants: VariantEntry[],
  audio: MediaEntry[],
  subtitles: MediaEntry[] = [],
  surround: MediaEntry[] = [],
): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:6', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const a of audio) lines.push(mediaLine('AUDIO', AUDIO_GROUP, a));
  for (const a of surround) lines.push(mediaLine('AUDIO', SURROUND_GROUP, a));
  for (const s of subtitles) lines.push(mediaLine('SUBTITLES', SUBTITLE_GROUP, s));
  for (const v of variants) {
    const attrs = [
      `BANDWIDTH=${v.bandwidth}`,
      `AVERAGE-BANDWIDTH=${v.averageBandwidth}`,
      `RESOLUTION=${v.width}x${v.height}`,
      `CODECS=${quoted(v.codecs)}`,
      `FRAME-RATE=${v.fps.toFixed(3)}`,
    ];
    if (audio.length) attrs.push(`AUDIO=${quoted(v.audioGroup ?? AUDIO_GROUP)}`);
    if (subtitles.length) attrs.push(`SUBTITLES=${quoted(SUBTITLE_GROUP)}`);
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, v.uri);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The master with `subtitles` as its subtitles group, replacing any earlier
 * one (a retried subtitle stage writes the same master again).
 */
export function withSubtitles(master: string, subtitles: MediaEntry[]): string {
  const lines = master.split(/\r?\n/).filter((l) => l !== '');
  const out: string[] = [];
  for (const line of lines) {
    if (line.startsWith('#EXT-X-MEDIA:') && line.includes('TYPE=SUBTITLES')) continue;
    if (line.startsWith('#EXT-X-STREAM-INF:')) {
      const attrs = line.replace(/,SUBTITLES="[^"]*"/, '');
      out.push(subtitles.length ? `${attrs},SUBTITLES=${quoted(SUBTITLE_GROUP)}` : attrs);
      continue;
    }
    out.push(line);
  }
  const firstVariant = out.findIndex((l) => l.startsWith('#EXT-X-STREAM-INF:'));
  const at = firstVariant < 0 ? out.length : firstVariant;
  out.splice(at, 0, ...subtitles.map((s) => mediaLine('SUBTITLES', SUBTITLE_GROUP, s)));
  return `${out.join('\n')}\n`;
}

/** A WebVTT media playlist of one file covering the whole programme. */
export function subtitlePlaylist(vttUri: string, durationSeconds: number): string {
  const target = Math.max(1, Math.ceil(durationSeconds));
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${target}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    `#EXTINF:${Math.max(durationSeconds, 0.001).toFixed(3)},`,
    vttUri,
    '#EXT-X-ENDLIST',
    '',
  ].join('\n');
}
