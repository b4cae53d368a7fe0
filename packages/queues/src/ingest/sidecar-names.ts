import type { SidecarFile } from '../schemas/video.js';

/** The words after a film's name that flag its subtitle file, as media servers and downloaders write them. */
const FORCED = new Set(['forced', 'foreign']);
const HEARING_IMPAIRED = new Set(['sdh', 'cc', 'hoh', 'hi']);

const languages = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' });
const isLanguage = (tag: string) => {
  if (!/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/.test(tag) || tag === 'und') return false;
  try {
    return languages.of(tag) !== undefined;
  } catch {
    return false;
  }
};

/**
 * What a sidecar's file name says of it, by the usual convention: `film.en.srt`,
 * `film.fr.forced.srt`, `film.en.sdh.srt`, `Film (2001).pt-BR.hi.srt`, `film.eng.cc.srt`. The words
 * between the film's name and the extension are read from the last back: a flag (`forced` or
 * `foreign`; `sdh`, `cc`, `hoh`, and `hi` when a language comes before it, since alone it is Hindi)
 * or a language tag that names a language. The first word that is neither ends the reading.
 */
export function sidecarNameHints(key: string): Pick<SidecarFile, 'language' | 'forced' | 'hearingImpaired'> {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const words = name.split('.').slice(1, -1);
  const hints: Pick<SidecarFile, 'language' | 'forced' | 'hearingImpaired'> = {};
  for (let i = words.length - 1; i >= 0; i--) {
    const word = words[i] as string;
    const lower = word.toLowerCase();
    const languageBefore = i > 0 && isLanguage(words[i - 1] as string);
    if (FORCED.has(lower)) hints.forced = true;
    else if (HEARING_IMPAIRED.has(lower) && (lower !== 'hi' || languageBefore)) hints.hearingImpaired = true;
    else if (!hints.language && isLanguage(word)) hints.language = word;
    else break;
  }
  return hints;
}

/** A sidecar with what the request left out taken from its file name; what the request says wins. */
export function withNameHints(file: SidecarFile): SidecarFile {
  const hints = sidecarNameHints(file.key);
  return {
    ...file,
    ...(file.language === undefined && hints.language ? { language: hints.language } : {}),
    ...(file.forced === undefined && hints.forced ? { forced: true } : {}),
    ...(file.hearingImpaired === undefined && hints.hearingImpaired ? { hearingImpaired: true } : {}),
  };
}
