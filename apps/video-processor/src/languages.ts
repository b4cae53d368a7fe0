// Language tags and names, in one place: a track's tag as HLS wants it, its name for people, and the
// OCR engine's name for it.

const names = new Intl.DisplayNames(['en'], { type: 'language' });

/**
 * A track's language as HLS wants it (RFC 5646, `eng` → `en`, `fre` → `fr`),
 * or `undefined` when the tag is missing, `und` or not a language.
 */
export function hlsLanguage(tag: string | undefined): string | undefined {
  if (!tag || tag === 'und' || !/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(tag)) return undefined;
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}

/** A language's name in English (`fr` → `French`); undefined for a tag Intl does not know. */
export function languageName(tag: string): string | undefined {
  try {
    return names.of(tag);
  } catch {
    return undefined;
  }
}

/** Tesseract's trained data for ISO 639-1/639-2 (bibliographic) tags that differ from its own names. */
const TESSERACT_NAMES: Record<string, string> = {
  en: 'eng',
  fr: 'fra',
  fre: 'fra',
  de: 'deu',
  ger: 'deu',
  es: 'spa',
  it: 'ita',
  pt: 'por',
  nl: 'nld',
  dut: 'nld',
  sv: 'swe',
  da: 'dan',
  no: 'nor',
  nb: 'nor',
  fi: 'fin',
  pl: 'pol',
  cs: 'ces',
  cze: 'ces',
  sk: 'slk',
  slo: 'slk',
  hu: 'hun',
  ro: 'ron',
  rum: 'ron',
  el: 'ell',
  gre: 'ell',
  tr: 'tur',
  ru: 'rus',
  uk: 'ukr',
  bg: 'bul',
  hr: 'hrv',
  sr: 'srp',
  sl: 'slv',
  et: 'est',
  lv: 'lav',
  lt: 'lit',
  is: 'isl',
  ice: 'isl',
  ga: 'gle',
  cy: 'cym',
  wel: 'cym',
  ca: 'cat',
  eu: 'eus',
  baq: 'eus',
  gl: 'glg',
  he: 'heb',
  ar: 'ara',
  fa: 'fas',
  per: 'fas',
  hi: 'hin',
  th: 'tha',
  vi: 'vie',
  id: 'ind',
  ms: 'msa',
  may: 'msa',
  ja: 'jpn',
  ko: 'kor',
  zh: 'chi_sim',
  chi: 'chi_sim',
  zho: 'chi_sim',
};

/** The tesseract language of a track's tag (`eng`, `fre` → `fra`, `zh` → `chi_sim`), undefined for none. */
export function tesseractLanguage(tag: string | undefined): string | undefined {
  if (!tag) return undefined;
  const base = tag.toLowerCase().split('-')[0] ?? '';
  if (!/^[a-z]{2,3}$/.test(base) || base === 'und') return undefined;
  return TESSERACT_NAMES[base] ?? (base.length === 3 ? base : undefined);
}
