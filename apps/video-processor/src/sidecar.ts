import { isCharset } from '@nself-tv/queues';
import { analyse } from 'chardet';
import { type Cue, cueText, MAX_CUE_SECONDS, MAX_CUES, styleMarks } from './cues.js';

/**
 * Subtitle files as people keep them next to their films, read without ffmpeg: its 5.1 readers stop
 * at a WebVTT NOTE or STYLE block, refuse ASS whose lines start with a space, and know neither the
 * legacy encodings nor MicroDVD's frame numbers. Each file is decoded to text (BOM, UTF-8, a
 * detected charset, else the configured one), its format found from its content, and its cues
 * parsed into {@link Cue}s, escaped and bounded. A file that cannot be read is a {@link SidecarSkip}
 * with a stable code: one bad file never fails the other tracks.
 */

/** Bytes of one sidecar file read at most: a film's SubRip is about 100 kB, a karaoke ASS a few MB. */
export const MAX_SIDECAR_BYTES = 10 * 1024 * 1024;

/** The charset a file in no detectable encoding is read in (`SUBTITLE_CHARSET`). */
export const DEFAULT_SUBTITLE_CHARSET = 'windows-1252';

/** The formats recognised; the last four are recognised only to be named when skipped. */
export type SidecarFormat = 'srt' | 'webvtt' | 'ass' | 'ssa' | 'microdvd' | 'scc' | 'sami' | 'ttml' | 'sbv';

/** Why a sidecar is not among the tracks: a stable code and a sentence. */
export type SidecarSkipCode =
  | 'SIDECAR_MISSING'
  | 'SIDECAR_REFUSED'
  | 'SIDECAR_TOO_LARGE'
  | 'SIDECAR_UNKNOWN_FORMAT'
  | 'SIDECAR_UNSUPPORTED_FORMAT'
  | 'SIDECAR_NO_FRAME_RATE'
  | 'SIDECAR_EMPTY';

export interface SidecarSkip {
  code: SidecarSkipCode;
  reason: string;
  format?: SidecarFormat;
}

export interface SidecarCues {
  format: SidecarFormat;
  /** The charset the file was read in (WHATWG name). */
  charset: string;
  cues: Cue[];
}

/** How a sidecar is read. */
export interface SidecarOptions {
  /** The charset of a file that is neither UTF-8 nor detected (`SUBTITLE_CHARSET`). */
  fallbackCharset: string;
  /** The film's frame rate, for MicroDVD's frame numbers; undefined when it has no video. */
  fps: number | undefined;
  /** The charset the request names for this file, used when it is not UTF-8 (a BOM still wins). */
  charset?: string | undefined;
}

/** The file's text and the charset it was read in: BOM, then valid UTF-8, then detection, then `fallback`. */
export function decodeSubtitleText(
  bytes: Uint8Array,
  fallback: string,
  declared?: string,
): { text: string; charset: string } {
  const decode = (charset: string, from = 0) => ({
    text: new TextDecoder(charset).decode(bytes.subarray(from)),
    charset: new TextDecoder(charset).encoding,
  });
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return decode('utf-8', 3);
  // UTF-32's BOM starts as UTF-16LE's does; TextDecoder knows no UTF-32.
  if (bytes[0] === 0xff && bytes[1] === 0xfe && bytes[2] === 0 && bytes[3] === 0) return utf32(bytes, true);
  if (bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0xfe && bytes[3] === 0xff) return utf32(bytes, false);
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return decode('utf-16le', 2);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return decode('utf-16be', 2);
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), charset: 'utf-8' };
  } catch {
    // Not UTF-8: a legacy charset, the one the request names if it names one.
  }
  if (declared) return decode(declared);
  // UTF-16 without a BOM: text in the Latin range has a zero byte in every other position.
  const sample = bytes.subarray(0, 4096);
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < sample.length; i++) if (sample[i] === 0) i % 2 ? oddZeros++ : evenZeros++;
  if (oddZeros > sample.length / 5) return decode('utf-16le');
  if (evenZeros > sample.length / 5) return decode('utf-16be');
  const detected = analyse(bytes.subarray(0, 256 * 1024)).find(
    (m) => m.confidence >= 50 && !/^utf/i.test(m.name) && isCharset(m.name),
  );
  return decode(detected ? detected.name : fallback);
}

/** UTF-32 after its BOM; a code point past U+10FFFF or a surrogate reads as U+FFFD. */
function utf32(bytes: Uint8Array, little: boolean): { text: string; charset: string } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const points: string[] = [];
  for (let at = 4; at + 4 <= bytes.length; at += 4) {
    const cp = view.getUint32(at, little);
    points.push(cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? '\uFFFD' : String.fromCodePoint(cp));
  }
  return { text: points.join(''), charset: little ? 'utf-32le' : 'utf-32be' };
}

/** The format of a subtitle file, from its first lines. */
export function sidecarFormat(text: string): SidecarFormat | undefined {
  const head = text.slice(0, 64 * 1024).replace(/^\uFEFF/, '');
  const lines = head.split(/\r\n|\r|\n/).map((l) => l.trim());
  const first = lines.find((l) => l !== '') ?? '';
  if (/^WEBVTT(\s|$)/.test(first)) return 'webvtt';
  if (/^Scenarist_SCC V1\.0/i.test(first)) return 'scc';
  if (/^<SAMI>/i.test(first)) return 'sami';
  if (/^(<\?xml[^>]*>\s*)?<tt[\s>]/i.test(head.trim())) return 'ttml';
  const scriptInfo = lines.indexOf('[Script Info]');
  if (scriptInfo >= 0) return lines.some((l) => /^\[V4\+ Styles\]/i.test(l)) ? 'ass' : 'ssa';
  if (/^\{\d+\}\{\d*\}/.test(first)) return 'microdvd';
  if (lines.some((l) => SRT_TIMING.test(l))) return 'srt';
  if (/^\d+:\d{2}:\d{2}\.\d{3},\d+:\d{2}:\d{2}\.\d{3}$/.test(first)) return 'sbv';
  return undefined;
}

/** Reads one sidecar's bytes into cues, or says why not. */
export function readSidecar(bytes: Uint8Array, options: SidecarOptions): SidecarCues | SidecarSkip {
  if (bytes.length > MAX_SIDECAR_BYTES) {
    return { code: 'SIDECAR_TOO_LARGE', reason: `${bytes.length} bytes, more than ${MAX_SIDECAR_BYTES}` };
  }
  const { text, charset } = decodeSubtitleText(bytes, options.fallbackCharset, options.charset);
  const format = sidecarFormat(text);
  if (!format) return { code: 'SIDECAR_UNKNOWN_FORMAT', reason: 'not SubRip, WebVTT, ASS/SSA or MicroDVD' };
  let raw: RawCue[];
  switch (format) {
    case 'srt':
      raw = parseSrt(text);
      break;
    case 'webvtt':
      raw = parseWebVtt(text);
      break;
    case 'ass':
    case 'ssa':
      raw = parseAss(text);
      break;
    case 'microdvd': {
      const parsed = parseMicroDvd(text, options.fps);
      if (!parsed) {
        return {
          code: 'SIDECAR_NO_FRAME_RATE',
          format,
          reason: 'MicroDVD counts frames, and neither the file nor the video gives a frame rate',
        };
      }
      raw = parsed;
      break;
    }
    default:
      return {
        code: 'SIDECAR_UNSUPPORTED_FORMAT',
        format,
        reason: `${FORMAT_NAMES[format]} is recognised but not converted`,
      };
  }
  const cues = finish(raw);
  if (cues.length === 0) return { code: 'SIDECAR_EMPTY', format, reason: 'the file holds no cue with text' };
  return { format, charset, cues };
}

const FORMAT_NAMES: Record<SidecarFormat, string> = {
  srt: 'SubRip',
  webvtt: 'WebVTT',
  ass: 'ASS',
  ssa: 'SSA',
  microdvd: 'MicroDVD',
  scc: 'SCC (CEA-608 broadcast captions)',
  sami: 'SAMI',
  ttml: 'TTML',
  sbv: 'SubViewer (SBV)',
};

/** SubRip as ffmpeg writes an embedded text track (`-c:s srt`), as bounded, escaped cues. */
export function srtCues(text: string): Cue[] {
  return finish(parseSrt(text));
}

/** A cue as parsed, before its text is made safe. */
interface RawCue {
  start: number;
  end: number;
  text: string;
  top?: boolean;
}

/** Cues in time order, with sane times, their text escaped and bounded; empty ones dropped. */
function finish(raw: RawCue[]): Cue[] {
  const out: Cue[] = [];
  for (const c of raw) {
    if (!(c.start >= 0 && c.end > c.start && c.end <= MAX_CUE_SECONDS)) continue;
    const text = cueText(c.text);
    if (text === '') continue;
    out.push({ start: c.start, end: c.end, text, top: c.top ?? false });
    if (out.length >= MAX_CUES) break;
  }
  return out.sort((a, b) => a.start - b.start || a.end - b.end);
}

const lineSplit = (text: string) => text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);

/** `[h:]mm:ss[,.]fff`: SubRip writes a comma, many tools a dot; hours may be missing or long. */
const TIME = String.raw`(?:(\d{1,3}):)?(\d{1,2}):(\d{1,2})(?:[,.](\d{1,3}))?`;
const SRT_TIMING = new RegExp(String.raw`^\s*${TIME}\s*-->\s*${TIME}`);

function seconds(h: string | undefined, m: string | undefined, s: string | undefined, frac: string | undefined) {
  return Number(h ?? 0) * 3600 + Number(m ?? 0) * 60 + Number(s ?? 0) + (frac ? Number(frac) / 10 ** frac.length : 0);
}

/** Text with `<i>`/`<b>`/`<u>` kept as marks and every other tag gone: `<font …>`, `<c.x>`, `<v Name>`, ruby… */
const stripTags = (text: string) => styleMarks(text).replace(/<\/?[a-z][^<>]*>/gi, '');
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', nbsp: '\u00a0', lrm: '\u200e', rlm: '\u200f' };

/**
 * SubRip: a timing line, then text up to the next timing line (its index number and the blank
 * line before it dropped), so a blank line inside a cue or a missing index loses nothing.
 */
export function parseSrt(text: string): RawCue[] {
  const lines = lineSplit(text);
  const timings: { at: number; start: number; end: number }[] = [];
  lines.forEach((line, at) => {
    const m = SRT_TIMING.exec(line);
    if (m) timings.push({ at, start: seconds(m[1], m[2], m[3], m[4]), end: seconds(m[5], m[6], m[7], m[8]) });
  });
  return timings.map((t, i) => {
    const body = lines.slice(t.at + 1, timings[i + 1]?.at ?? lines.length);
    while (body.length && body[body.length - 1]?.trim() === '') body.pop();
    if (i + 1 < timings.length && /^\s*\d+\s*$/.test(body[body.length - 1] ?? '')) body.pop();
    const cue = body.join('\n');
    // Many SubRip files carry ASS placement codes (`{\an8}`): the top is kept, the code goes.
    return {
      start: t.start,
      end: t.end,
      text: stripTags(cue.replace(/\{\\[^}]*\}/g, '')),
      top: /\{[^}]*\\an[789]/.test(cue),
    };
  });
}

const VTT_TIME = String.raw`(?:(\d{1,3}):)?(\d{2}):(\d{2})\.(\d{3})`;
const VTT_TIMING = new RegExp(String.raw`^\s*${VTT_TIME}\s+-->\s+${VTT_TIME}(.*)$`);

/**
 * WebVTT: blocks between blank lines; NOTE, STYLE and REGION blocks and the header are passed over,
 * every cue kept (with or without an identifier); entities decoded before the text is escaped again.
 */
export function parseWebVtt(text: string): RawCue[] {
  const out: RawCue[] = [];
  const blocks = lineSplit(text)
    .join('\n')
    .split(/\n[ \t]*\n/);
  for (const block of blocks) {
    const lines = block.split('\n');
    const timingAt = lines.findIndex((l) => VTT_TIMING.test(l));
    if (timingAt < 0 || timingAt > 1) continue;
    if (/^(NOTE|STYLE|REGION|WEBVTT)(\s|$)/.test(lines[0] ?? '') && timingAt === 1) continue;
    const m = VTT_TIMING.exec(lines[timingAt] ?? '') as RegExpExecArray;
    const settings = m[9] ?? '';
    // Tags first, entities after: an escaped `&lt;b&gt;` is text, not a tag.
    const body = stripTags(lines.slice(timingAt + 1).join('\n'))
      .replace(/<\d{2}:[\d:.]+>/g, '')
      .replace(/&(amp|lt|gt|nbsp|lrm|rlm);/g, (_e, name: string) => ENTITIES[name] ?? '');
    out.push({
      start: seconds(m[1], m[2], m[3], m[4]),
      end: seconds(m[5], m[6], m[7], m[8]),
      text: body,
      top: /(^|\s)line:(0|-?[0-9]%|1[0-9]%)(,|\s|$)/.test(settings),
    });
  }
  return out;
}

/**
 * ASS and SSA: the `[Events]` section's `Format:` names the fields (the last, Text, takes the rest
 * of the line, commas and all); every `Dialogue:` is a cue. Lines may start with spaces (editors
 * and converters indent them). Override blocks (`{\i1}`, `{\pos(…)}`) go, `\N` breaks a line, an
 * `\an7`–`\an9` (or SSA's `\a5`–`\a7`) places the cue at the top; drawings (`\p1`) are not text.
 */
export function parseAss(text: string): RawCue[] {
  const lines = lineSplit(text).map((l) => l.trim());
  let inEvents = false;
  let format = ['layer', 'start', 'end', 'style', 'name', 'marginl', 'marginr', 'marginv', 'effect', 'text'];
  const out: RawCue[] = [];
  for (const line of lines) {
    if (line.startsWith('[')) {
      inEvents = /^\[Events\]$/i.test(line);
      continue;
    }
    if (!inEvents) continue;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const kind = line.slice(0, colon).trim().toLowerCase();
    const rest = line.slice(colon + 1);
    if (kind === 'format') {
      format = rest.split(',').map((f) => f.trim().toLowerCase());
      continue;
    }
    if (kind !== 'dialogue') continue;
    const fields = rest.split(',');
    const head = fields.slice(0, format.length - 1).map((f) => f.trim());
    const body = fields.slice(format.length - 1).join(',');
    const field = (name: string) => head[format.indexOf(name)];
    const start = assTime(field('start'));
    const end = assTime(field('end'));
    if (start === undefined || end === undefined) continue;
    const overrides = [...body.matchAll(/\{([^}]*)\}/g)].map((m) => m[1] ?? '').join('');
    if (/\\p[1-9]/.test(overrides)) continue;
    out.push({
      start,
      end,
      text: body
        .replace(/\{[^}]*\}/g, '')
        .replace(/\\[Nn]/g, '\n')
        .replace(/\\h/g, ' '),
      top: /\\an[789]|\\a[567](?!\d)/.test(overrides),
    });
  }
  return out;
}

function assTime(value: string | undefined): number | undefined {
  const m = /^(\d+):(\d{1,2}):(\d{1,2})(?:\.(\d{1,3}))?$/.exec(value ?? '');
  return m ? seconds(m[1], m[2], m[3], m[4]) : undefined;
}

/**
 * MicroDVD: `{start}{end}text`, frame numbers at the film's rate; a first cue of `{1}{1}23.976`
 * (as many tools write) gives the rate itself. `|` breaks a line; `{y:i}`-style codes go.
 * Undefined when no rate is known.
 */
export function parseMicroDvd(text: string, fps: number | undefined): RawCue[] | undefined {
  const rows = lineSplit(text)
    .map((l) => /^\s*\{(\d+)\}\{(\d*)\}(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null);
  let rate = fps;
  const declared = rows[0] && /^\s*(\d{1,3}(?:\.\d+)?)\s*$/.exec(rows[0][3] ?? '');
  if (declared && rows[0]?.[1] === rows[0]?.[2]) {
    const value = Number(declared[1]);
    if (value >= 1 && value <= 240) rate = value;
    rows.shift();
  }
  if (!rate) return undefined;
  const per = rate;
  return rows.map((m) => {
    const start = Number(m[1]) / per;
    // An open end (`{}`) lasts until the next cue, at most 5 s.
    const end = m[2] ? Number(m[2]) / per : start + 5;
    return {
      start,
      end,
      text: (m[3] ?? '')
        .replace(/\{[a-zA-Z]:[^}]*\}/g, '')
        .split('|')
        .join('\n'),
    };
  });
}
