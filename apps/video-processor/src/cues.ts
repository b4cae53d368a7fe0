import { vttTime } from '@nself-tv/media-tools';

/**
 * Cues as this worker writes them, whatever they were read from (OCR of pictures, a sidecar file):
 * text from outside is hostile, so every cue's text is escaped and bounded here, in one place.
 */

/** One cue: seconds on the track's own timeline and its WebVTT cue text (escaped). */
export interface Cue {
  start: number;
  end: number;
  text: string;
  /** Placed on the first line (a picture subtitle drawn in the top half, an ASS `\an8`). */
  top: boolean;
}

/** Characters of one cue kept at most. */
export const MAX_CUE_CHARS = 400;
/** Cues of one track kept at most: a film has one or two thousand, a long series episode a few. */
export const MAX_CUES = 20_000;
/** The latest cue time accepted: 48 hours. A time past it is a broken file, not a film. */
export const MAX_CUE_SECONDS = 48 * 3600;

/**
 * The styling tags WebVTT shares with SubRip (`<i>`, `<b>`, `<u>`) survive escaping as marks from
 * the private use area, which {@link styleMarks} makes after removing any the file brought itself:
 * an escaped `&lt;b&gt;` in a file stays text, and no input can forge a tag.
 */
const MARK_OPEN = '\uE000';
const MARK_CLOSE = '\uE001';
const MARKS = /[\uE000\uE001]/g;
const MARKED = /\uE000(\/?)([ibu])\uE001/g;

/** `raw` with its `<i>`, `<b>`, `<u>` (and their ends) turned into marks that {@link cueText} keeps as tags. */
export function styleMarks(raw: string): string {
  return raw
    .replace(MARKS, '')
    .replace(
      /<(\/?)([ibu])>/gi,
      (_m, close: string, tag: string) => `${MARK_OPEN}${close}${tag.toLowerCase()}${MARK_CLOSE}`,
    );
}

/**
 * Text from outside as WebVTT cue text: one cue's lines, control characters gone, markup escaped
 * (the styling marks of {@link styleMarks} become `<i>`, `<b>`, `<u>`), nothing that ends a cue,
 * at most {@link MAX_CUE_CHARS} characters.
 */
export function cueText(raw: string): string {
  const lines = raw
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters from outside go.
    .replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, ' ')
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter((l) => l !== '');
  const text = lines
    .join('\n')
    .slice(0, MAX_CUE_CHARS)
    .replace(/-->/g, '->')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .trim();
  return text.replace(MARKED, '<$1$2>').replace(MARKS, '');
}

/** The WebVTT of `cues`: top cues placed on the first line. */
export function cuesVtt(cues: readonly Cue[]): string {
  const blocks = cues.map((c) => `${vttTime(c.start)} --> ${vttTime(c.end)}${c.top ? ' line:0' : ''}\n${c.text}`);
  return `WEBVTT\n\n${blocks.join('\n\n')}\n`;
}
